# Golden values for reviewflow's pooling tests, from R's metafor run to convergence.
#
#   Rscript tests/pooling/golden/make_golden.R      (from the repository root)
#
# Needs Debian's r-cran-metafor, r-cran-metadat, r-cran-lme4 and r-cran-jsonlite
# (apt-get install -y r-cran-metafor r-cran-lme4 r-cran-metadat r-cran-jsonlite).
# Writes tests/pooling/data/*.csv (the datasets, with provenance in SOURCES.md) and
# tests/pooling/golden/metafor.json (the numbers). The test suite reads only these files.
suppressMessages({
  library(metafor)
  library(lme4)
  library(jsonlite)
})

here <- "tests/pooling"
tight <- list(threshold = 1e-13, maxiter = 10000, tol = 1e-13)
# lme4's default optimizers stop at a deviance change of ~1e-5; bobyqa with a tiny trust region
# radius gives the maximum of the same (adaptive Gauss-Hermite, nAGQ = 7) likelihood.
glmm_tight <- list(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e6),
                   tolPwrss = 1e-12)

# --- datasets ---------------------------------------------------------------------------------
real <- list(
  pritz1997 = with(dat.pritz1997, data.frame(study = authors, events = xi, total = ni)),
  debruin2009 = with(dat.debruin2009, data.frame(study = author, events = xi, total = ni,
                                                 subgroup = ethnicity)),
  hannum2020 = with(dat.hannum2020, data.frame(study = authorName, events = xi, total = ni,
                                               subgroup = objectivity))
)
# Edge cases: made-up counts chosen to exercise one corner each (not real studies).
edge <- list(
  zero_event = data.frame(study = paste("Study", 1:5), events = c(0, 3, 5, 2, 8),
                          total = c(20, 25, 30, 15, 40)),
  all_event = data.frame(study = paste("Study", 1:4), events = c(12, 9, 20, 15),
                         total = c(12, 10, 25, 18)),
  two_studies = data.frame(study = c("Study 1", "Study 2"), events = c(10, 25),
                           total = c(40, 60)),
  homogeneous = data.frame(study = paste("Study", 1:4), events = c(10, 21, 29, 40),
                           total = c(100, 200, 300, 400)),
  rare_events = data.frame(study = paste("Study", 1:7), events = c(0, 1, 0, 2, 1, 0, 3),
                           total = c(150, 230, 95, 410, 180, 60, 520))
)
datasets <- c(real, edge)
for (name in names(datasets)) {
  write.csv(datasets[[name]], file.path(here, "data", paste0(name, ".csv")), row.names = FALSE)
}

back <- function(measure, x, ni) {
  switch(measure,
    PLO = transf.ilogit(x), PLN = exp(x), PR = x, PAS = transf.iarcsin(x),
    PFT = transf.ipft.hm(x, targs = list(ni = ni)))
}

fit_one <- function(d, measure, method, test) {
  es <- escalc(measure = measure, xi = d$events, ni = d$total)
  res <- rma(yi, vi, data = es, method = method, test = test, control = tight)
  pred <- predict(res)
  if (is.null(pred$pi.lb)) {  # EE models: metafor gives no PI; it equals the CI (tau^2 = 0)
    pred$pi.lb <- pred$ci.lb
    pred$pi.ub <- pred$ci.ub
  }
  out <- list(measure = measure, method = method, test = test, k = res$k,
              yi = as.numeric(es$yi), vi = as.numeric(es$vi),
              estimate = as.numeric(res$beta), se = res$se, pval = res$pval,
              ci_lower = res$ci.lb, ci_upper = res$ci.ub,
              pi_lower = pred$pi.lb, pi_upper = pred$pi.ub,
              tau2 = res$tau2, i2 = res$I2, h2 = res$H2, q = res$QE, q_pval = res$QEp,
              weights = as.numeric(weights(res)),
              estimate_prop = back(measure, as.numeric(res$beta), d$total),
              ci_lower_prop = back(measure, res$ci.lb, d$total),
              ci_upper_prop = back(measure, res$ci.ub, d$total),
              pi_lower_prop = back(measure, pred$pi.lb, d$total),
              pi_upper_prop = back(measure, pred$pi.ub, d$total),
              call = sprintf("rma(yi, vi, data = escalc(measure = \"%s\", xi = events, ni = total), method = \"%s\", test = \"%s\", control = list(threshold = 1e-13, maxiter = 10000, tol = 1e-13))",
                             measure, method, test))
  if (method != "EE") {
    ci <- confint(res, control = list(tol = 1e-13, tau2.max = 1e4))
    out$tau2_ci <- as.numeric(ci$random["tau^2", c("ci.lb", "ci.ub")])
  }
  out
}

fits <- list()
for (name in names(datasets)) {
  for (measure in c("PLO", "PFT", "PAS", "PR", "PLN")) {
    for (method in c("EE", "DL", "REML", "ML", "PM")) {
      for (test in c("z", "knha")) {
        f <- suppressWarnings(fit_one(datasets[[name]], measure, method, test))
        f$dataset <- name
        fits[[length(fits) + 1]] <- f
      }
    }
  }
}

glmm_one <- function(d, test, control) {
  res <- try(suppressWarnings(rma.glmm(measure = "PLO", xi = d$events, ni = d$total,
                                       method = "ML", test = test, control = control)),
             silent = TRUE)
  if (inherits(res, "try-error")) {  # PIRLS cannot reach 1e-12 (tau^2 = 0): lme4's tolPwrss
    control$glmerCtrl$tolPwrss <- NULL
    res <- suppressWarnings(rma.glmm(measure = "PLO", xi = d$events, ni = d$total,
                                     method = "ML", test = test, control = control))
  }
  pred <- predict(res)
  list(test = test, k = res$k, estimate = as.numeric(res$beta), se = res$se,
       ci_lower = res$ci.lb, ci_upper = res$ci.ub, pi_lower = pred$pi.lb, pi_upper = pred$pi.ub,
       tau2 = res$tau2, i2 = res$I2, h2 = res$H2, q_wald = res$QE.Wld, q_wald_pval = res$QEp.Wld,
       q_lrt = res$QE.LRT, q_lrt_pval = res$QEp.LRT, loglik = as.numeric(res$fit.stats["ll", "ML"]),
       estimate_prop = transf.ilogit(as.numeric(res$beta)))
}
glmm <- list()
for (name in names(datasets)) {
  for (test in c("z", "t")) {
    g <- glmm_one(datasets[[name]], test, list(glmerCtrl = glmm_tight))
    g$dataset <- name
    g$control <- "tight"
    g$call <- sprintf("rma.glmm(measure = \"PLO\", xi = events, ni = total, method = \"ML\", test = \"%s\", control = list(glmerCtrl = list(optimizer = \"bobyqa\", optCtrl = list(rhoend = 1e-12, maxfun = 1e6), tolPwrss = 1e-12)))", test)
    glmm[[length(glmm) + 1]] <- g
  }
  g <- glmm_one(datasets[[name]], "z", list())  # metafor's defaults, for the record
  g$dataset <- name
  g$control <- "default"
  g$call <- "rma.glmm(measure = \"PLO\", xi = events, ni = total)"
  glmm[[length(glmm) + 1]] <- g
}

# Subgroups: a separate random-effects model per subgroup (own tau^2), then the test for
# subgroup differences = Q of a common-effect model on the subgroup estimates and their SEs.
subgroups <- list()
for (name in c("debruin2009", "hannum2020")) {
  d <- datasets[[name]]
  for (measure in c("PLO", "PFT")) {
    for (method in c("REML", "DL")) {
      for (test in c("z", "knha")) {
        es <- escalc(measure = measure, xi = d$events, ni = d$total)
        levels_ <- sort(unique(d$subgroup))
        per <- lapply(levels_, function(g) {
          r <- rma(yi, vi, data = es, subset = d$subgroup == g, method = method, test = test,
                   control = tight)
          list(subgroup = g, k = r$k, estimate = as.numeric(r$beta), se = r$se,
               ci_lower = r$ci.lb, ci_upper = r$ci.ub, tau2 = r$tau2, i2 = r$I2)
        })
        est <- sapply(per, function(p) p$estimate)
        se <- sapply(per, function(p) p$se)
        between <- rma(est, sei = se, method = "EE")
        subgroups[[length(subgroups) + 1]] <- list(
          dataset = name, measure = measure, method = method, test = test, groups = per,
          q_between = between$QE, q_between_df = between$k - 1, q_between_pval = between$QEp,
          call = "per subgroup: rma(yi, vi, subset = subgroup == g, ...); then rma(estimates, sei = ses, method = \"EE\")$QE")
      }
    }
  }
}

loo <- list()
for (name in c("pritz1997", "debruin2009")) {
  d <- datasets[[name]]
  for (spec in list(c("PLO", "REML", "z"), c("PLO", "REML", "knha"), c("PFT", "DL", "z"))) {
    es <- escalc(measure = spec[1], xi = d$events, ni = d$total)
    res <- rma(yi, vi, data = es, method = spec[2], test = spec[3], control = tight)
    l1 <- leave1out(res)
    loo[[length(loo) + 1]] <- list(dataset = name, measure = spec[1], method = spec[2],
                                   test = spec[3], estimate = l1$estimate, se = l1$se,
                                   ci_lower = l1$ci.lb, ci_upper = l1$ci.ub, tau2 = l1$tau2,
                                   i2 = l1$I2, q = l1$Q, q_pval = l1$Qp)
  }
}

# Study-level intervals: exact (binom.test) and Wilson (prop.test without continuity correction).
intervals <- lapply(names(datasets), function(name) {
  d <- datasets[[name]]
  cp <- t(mapply(function(x, n) binom.test(x, n)$conf.int, d$events, d$total))
  wi <- t(mapply(function(x, n) prop.test(x, n, correct = FALSE)$conf.int, d$events, d$total))
  list(dataset = name, cp_lower = cp[, 1], cp_upper = cp[, 2], wilson_lower = wi[, 1],
       wilson_upper = wi[, 2])
})

out <- list(
  generated_by = "tests/pooling/golden/make_golden.R",
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  lme4_version = as.character(packageVersion("lme4")),
  metadat_version = as.character(packageVersion("metadat")),
  fits = fits, glmm = glmm, subgroups = subgroups, leave1out = loo, intervals = intervals)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", na = "null", pretty = FALSE),
           file.path(here, "golden", "metafor.json"))
cat("wrote", length(fits), "fits,", length(glmm), "GLMM fits\n")

# The effect measures (two groups, means, generic), MH, Peto, meta-regression, regtest, trimfill.
source(file.path(here, "golden", "make_golden_measures.R"))
