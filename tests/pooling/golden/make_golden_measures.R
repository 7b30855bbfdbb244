# Golden values for reviewflow's effect measures (two-group binary and continuous, means,
# generic), Mantel-Haenszel, Peto, meta-regression, regtest, trimfill, subgroups and leave-one-out,
# from R's metafor run to convergence. make_golden.R runs this script after its own part:
#
#   Rscript tests/pooling/golden/make_golden.R      (from the repository root)
#
# Writes tests/pooling/data/<dataset>.csv (with provenance in SOURCES.md) and
# tests/pooling/golden/metafor_measures.json; the tests read only these files.
suppressMessages({
  library(metafor)
  library(jsonlite)
})

here <- "tests/pooling"
tight <- list(threshold = 1e-13, maxiter = 10000, tol = 1e-13)
tight_call <- "control = list(threshold = 1e-13, maxiter = 10000, tol = 1e-13)"

# --- datasets ---------------------------------------------------------------------------------
binary <- list(
  bcg = with(dat.bcg, data.frame(study = author, events1 = tpos, total1 = tpos + tneg,
                                 events2 = cpos, total2 = cpos + cneg, ablat = ablat,
                                 year = year, alloc = alloc)),
  egger2001 = with(dat.egger2001, data.frame(study = study, events1 = ai, total1 = n1i,
                                             events2 = ci, total2 = n2i)),
  # made-up tables, one corner each (not real studies)
  binary_zeros = data.frame(study = paste("Study", 1:6),
                            events1 = c(0, 3, 0, 12, 5, 20), total1 = c(20, 40, 25, 30, 50, 20),
                            events2 = c(2, 8, 0, 15, 9, 18), total2 = c(22, 38, 24, 30, 48, 18)),
  binary_two = data.frame(study = c("Study 1", "Study 2"), events1 = c(12, 30),
                          total1 = c(100, 150), events2 = c(20, 41), total2 = c(98, 152)),
  binary_homogeneous = data.frame(study = paste("Study", 1:4), events1 = c(10, 20, 30, 40),
                                  total1 = c(100, 200, 300, 400), events2 = c(15, 30, 45, 60),
                                  total2 = c(100, 200, 300, 400)),
  binary_single = data.frame(study = "Study 1", events1 = 7, total1 = 50, events2 = 15,
                             total2 = 52)
)
continuous <- list(
  normand1999 = with(dat.normand1999, data.frame(study = source, mean1 = m1i, sd1 = sd1i,
                                                 n1 = n1i, mean2 = m2i, sd2 = sd2i, n2 = n2i)),
  # made-up: a study too small for Hedges' g (n1 + n2 = 3) and one with means of opposite signs
  # (no log ratio); both are NA in escalc and left out by rma
  continuous_edge = data.frame(study = paste("Study", 1:5), mean1 = c(10.2, 8.1, 12.5, 9.0, -1.0),
                               sd1 = c(2.1, 1.9, 3.0, 2.5, 1.5), n1 = c(30, 2, 25, 40, 20),
                               mean2 = c(11.0, 9.5, 12.9, 10.4, 2.0),
                               sd2 = c(2.4, 2.0, 2.8, 2.2, 1.4), n2 = c(28, 1, 27, 38, 21))
)
means <- list(
  senn2013_placebo = with(subset(dat.senn2013, treatment == "placebo"),
                          data.frame(study = study, mean = mi, sd = sdi, n = ni)),
  normand1999_arm1 = with(dat.normand1999, data.frame(study = source, mean = m1i, sd = sd1i,
                                                      n = n1i))
)
generic <- list(
  hackshaw1998 = with(dat.hackshaw1998, data.frame(study = paste(author, year), yi = yi, vi = vi,
                                                   or = or, or_lb = or.lb, or_ub = or.ub,
                                                   design = design, year = year))
)
for (set in list(binary, continuous, means, generic)) {
  for (name in names(set)) {
    write.csv(set[[name]], file.path(here, "data", paste0(name, ".csv")), row.names = FALSE)
  }
}

ratio <- c("OR", "RR", "PETO", "ROM", "MNLN")
num <- function(x) as.numeric(x)

# Fisher scoring cannot move tau^2 by less than 1e-13 when tau^2 is in the hundreds (normand1999's
# MD: 685); there the threshold is 1e-13 relative to tau^2 (as reviewflow's), noted in the call.
relative <- function(yi, vi, method) {
  t0 <- rma(yi, vi, method = "DL")$tau2
  modifyList(tight, list(threshold = 1e-13 * max(1, 10 * t0)))
}
iv_fit <- function(yi, vi, method, test) {
  res <- try(rma(yi, vi, method = method, test = test, control = tight), silent = TRUE)
  if (inherits(res, "try-error")) {
    res <- rma(yi, vi, method = method, test = test, control = relative(yi, vi, method))
    attr(res, "threshold") <- relative(yi, vi, method)$threshold
  }
  res
}
control_of <- function(res) {
  if (is.null(attr(res, "threshold"))) tight_call
  else sprintf("control = list(threshold = %.6g, maxiter = 10000, tol = 1e-13)", attr(res, "threshold"))
}

summarise_iv <- function(res, exp_scale) {
  pred <- predict(res)
  if (is.null(pred$pi.lb)) {  # EE: no PI; reviewflow gives the CI
    pred$pi.lb <- pred$ci.lb
    pred$pi.ub <- pred$ci.ub
  }
  out <- list(k = res$k, yi = num(res$yi), vi = num(res$vi), estimate = num(res$beta),
              se = res$se, pval = res$pval, ci_lower = res$ci.lb, ci_upper = res$ci.ub,
              pi_lower = pred$pi.lb, pi_upper = pred$pi.ub, tau2 = res$tau2, i2 = res$I2,
              h2 = res$H2, q = res$QE, q_pval = res$QEp, weights = num(weights(res)))
  if (exp_scale) {
    for (key in c("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper")) {
      out[[paste0(key, "_reported")]] <- exp(out[[key]])
    }
  }
  if (res$method != "EE" && res$k > 1) {
    ci <- confint(res, control = list(tol = 1e-13, tau2.max = 1e4))
    out$tau2_ci <- num(ci$random["tau^2", c("ci.lb", "ci.ub")])
  }
  out
}

fits <- list()
add_fit <- function(entry) fits[[length(fits) + 1]] <<- entry
methods <- c("EE", "DL", "REML", "ML", "PM")

# escalc's arguments and the call text per data type
escalc_of <- list(
  binary = list(args = function(d) list(ai = d$events1, n1i = d$total1, ci = d$events2, n2i = d$total2),
                text = "ai = events1, n1i = total1, ci = events2, n2i = total2"),
  continuous = list(args = function(d) list(m1i = d$mean1, sd1i = d$sd1, n1i = d$n1, m2i = d$mean2,
                                            sd2i = d$sd2, n2i = d$n2),
                    text = "m1i = mean1, sd1i = sd1, n1i = n1, m2i = mean2, sd2i = sd2, n2i = n2"),
  mean = list(args = function(d) list(mi = d$mean, sdi = d$sd, ni = d$n),
              text = "mi = mean, sdi = sd, ni = n")
)
family_fits <- function(sets, family, measures_of) {
  spec <- escalc_of[[family]]
  for (name in names(sets)) {
    d <- sets[[name]]
    single <- nrow(d) == 1
    for (measure in measures_of(d)) {
      es <- suppressWarnings(do.call(escalc, c(list(measure = measure), spec$args(d))))
      for (method in (if (single) "EE" else methods)) {
        for (test in (if (single) "z" else c("z", "knha"))) {
          res <- suppressWarnings(iv_fit(es$yi, es$vi, method, test))
          f <- summarise_iv(res, measure %in% ratio)
          f$escalc_yi <- num(es$yi)
          f$escalc_vi <- num(es$vi)
          add_fit(c(list(dataset = name, family = family, measure = measure, method = method,
                         test = test,
                         call = sprintf("rma(yi, vi, data = escalc(measure = \"%s\", %s), method = \"%s\", test = \"%s\", %s)",
                                        measure, spec$text, method, test, control_of(res))), f))
        }
      }
    }
  }
}
family_fits(binary, "binary", function(d) c("OR", "RR", "RD", "PETO"))
family_fits(continuous, "continuous", function(d) c("MD", "SMD", "ROM"))
family_fits(means, "mean", function(d) if (all(d$mean > 0)) c("MN", "MNLN") else "MN")
h <- generic$hackshaw1998
h_sei <- (log(h$or_ub) - log(h$or_lb)) / (2 * qnorm(0.975))
for (method in methods) {
  for (test in c("z", "knha")) {
    res <- iv_fit(h$yi, h$vi, method, test)
    add_fit(c(list(dataset = "hackshaw1998", family = "generic", measure = "GEN", input = "yi_vi",
                   method = method, test = test,
                   call = sprintf("rma(yi, vi, method = \"%s\", test = \"%s\", %s)", method, test, tight_call)),
              summarise_iv(res, TRUE)))
    res <- iv_fit(log(h$or), h_sei^2, method, test)
    add_fit(c(list(dataset = "hackshaw1998", family = "generic", measure = "GEN", input = "ci",
                   method = method, test = test,
                   call = sprintf("rma(log(or), sei = (log(or_ub) - log(or_lb)) / (2 * qnorm(0.975)), method = \"%s\", test = \"%s\", %s)",
                                  method, test, tight_call)),
              summarise_iv(res, TRUE)))
  }
}

# metafor's default control (Fisher scoring to a change < 1e-5, PM's uniroot to tol 1.2e-4), for
# the record: how far a default run is from the converged values above (not used by the tests).
defaults <- list()
for (f in fits) {
  if (!(f$method %in% c("REML", "ML", "PM")) || f$test != "z" || f$k < 2) next
  res <- suppressWarnings(rma(f$yi, f$vi, method = f$method))
  defaults[[length(defaults) + 1]] <- list(
    dataset = f$dataset, measure = f$measure, input = f$input, method = f$method,
    estimate = num(res$beta), se = res$se, ci_lower = res$ci.lb, ci_upper = res$ci.ub,
    tau2 = res$tau2, i2 = res$I2, call = sprintf("rma(yi, vi, method = \"%s\")", f$method))
}

# --- Mantel-Haenszel and Peto -----------------------------------------------------------------
mh <- list()
for (name in names(binary)) {
  d <- binary[[name]]
  for (measure in c("OR", "RR", "RD", "PETO")) {
    res <- if (measure == "PETO") {
      suppressWarnings(rma.peto(ai = d$events1, n1i = d$total1, ci = d$events2, n2i = d$total2))
    } else {
      suppressWarnings(rma.mh(ai = d$events1, n1i = d$total1, ci = d$events2, n2i = d$total2,
                              measure = measure))
    }
    out <- list(dataset = name, measure = measure, method = if (measure == "PETO") "PETO" else "MH",
                k = res$k, k_yi = res$k.yi, estimate = num(res$beta), se = res$se, pval = res$pval,
                ci_lower = res$ci.lb, ci_upper = res$ci.ub, q = res$QE, q_pval = res$QEp,
                i2 = res$I2, h2 = res$H2, weights = num(weights(res)), yi = num(res$yi.f),
                vi = num(res$vi.f),
                call = if (measure == "PETO") "rma.peto(ai = events1, n1i = total1, ci = events2, n2i = total2)"
                       else sprintf("rma.mh(ai = events1, n1i = total1, ci = events2, n2i = total2, measure = \"%s\")", measure))
    if (measure == "OR") {
      out$cmh <- res$MH
      out$cmh_pval <- res$MHp
      out$tarone <- res$TA
      out$tarone_pval <- res$TAp
    }
    mh[[length(mh) + 1]] <- out
  }
}

# --- meta-regression --------------------------------------------------------------------------
# proportions (written by make_golden.R): objective vs subjective measurement as a moderator
hannum <- read.csv(file.path(here, "data", "hannum2020.csv"))
hannum_plo <- escalc(measure = "PLO", xi = hannum$events, ni = hannum$total)
pritz <- read.csv(file.path(here, "data", "pritz1997.csv"))
pritz_plo <- escalc(measure = "PLO", xi = pritz$events, ni = pritz$total)
bcg <- binary$bcg
bcg_rr <- escalc(measure = "RR", ai = bcg$events1, n1i = bcg$total1, ci = bcg$events2, n2i = bcg$total2)
specs <- list(
  list(dataset = "bcg", measure = "RR", yi = bcg_rr$yi, vi = bcg_rr$vi, formula = ~ ablat,
       data = bcg, moderators = "ablat"),
  list(dataset = "bcg", measure = "RR", yi = bcg_rr$yi, vi = bcg_rr$vi, formula = ~ ablat + alloc,
       data = bcg, moderators = c("ablat", "alloc")),
  list(dataset = "bcg", measure = "RR", yi = bcg_rr$yi, vi = bcg_rr$vi, formula = ~ year,
       data = bcg, moderators = "year"),
  list(dataset = "hackshaw1998", measure = "GEN", yi = h$yi, vi = h$vi, formula = ~ design,
       data = h, moderators = "design"),
  list(dataset = "hannum2020", measure = "PLO", yi = hannum_plo$yi, vi = hannum_plo$vi,
       formula = ~ subgroup, data = hannum, moderators = "subgroup")
)
regressions <- list()
for (spec in specs) {
  for (method in methods) {
    for (test in c("z", "knha")) {
      res <- rma(spec$yi, spec$vi, mods = spec$formula, data = spec$data, method = method,
                 test = test, control = tight)
      out <- list(dataset = spec$dataset, measure = spec$measure, moderators = spec$moderators,
                  method = method, test = test, k = res$k, terms = rownames(res$beta),
                  estimate = num(res$beta), se = res$se, zval = res$zval, pval = res$pval,
                  ci_lower = res$ci.lb, ci_upper = res$ci.ub, qm = res$QM, qm_df = res$QMdf[1],
                  qm_df2 = res$QMdf[2], qm_pval = res$QMp, tau2 = res$tau2, i2 = res$I2,
                  h2 = res$H2, qe = res$QE, qe_pval = res$QEp, r2 = res$R2,
                  call = sprintf("rma(yi, vi, mods = %s, method = \"%s\", test = \"%s\", %s)",
                                 deparse(spec$formula), method, test, tight_call))
      if (method != "EE") {
        ci <- confint(res, control = list(tol = 1e-13, tau2.max = 1e4))
        out$tau2_ci <- num(ci$random["tau^2", c("ci.lb", "ci.ub")])
      }
      regressions[[length(regressions) + 1]] <- out
    }
  }
}

# --- small-study effects: regtest and trimfill ------------------------------------------------
eg <- binary$egger2001
eg_or <- escalc(measure = "OR", ai = eg$events1, n1i = eg$total1, ci = eg$events2, n2i = eg$total2)
small <- list(
  list(dataset = "bcg", measure = "RR", yi = bcg_rr$yi, vi = bcg_rr$vi),
  list(dataset = "egger2001", measure = "OR", yi = eg_or$yi, vi = eg_or$vi),
  list(dataset = "hackshaw1998", measure = "GEN", yi = h$yi, vi = h$vi),
  list(dataset = "hannum2020", measure = "PLO", yi = hannum_plo$yi, vi = hannum_plo$vi),
  list(dataset = "pritz1997", measure = "PLO", yi = pritz_plo$yi, vi = pritz_plo$vi)
)
regtests <- list()
trimfills <- list()
for (spec in small) {
  for (method in c("EE", "DL", "REML", "ML", "PM")) {
    for (test in c("z", "knha")) {
      res <- rma(spec$yi, spec$vi, method = method, test = test, control = tight)
      r <- regtest(res)
      regtests[[length(regtests) + 1]] <- list(
        dataset = spec$dataset, measure = spec$measure, method = method, test = test,
        statistic = r$zval, pval = r$pval, df = if (is.null(r$ddf) || is.na(r$ddf)) NULL else r$ddf,
        limit_estimate = num(r$est), limit_ci_lower = r$ci.lb, limit_ci_upper = r$ci.ub,
        call = sprintf("regtest(rma(yi, vi, method = \"%s\", test = \"%s\", %s))", method, test, tight_call))
      tf <- trimfill(res, control = tight)
      trimfills[[length(trimfills) + 1]] <- list(
        dataset = spec$dataset, measure = spec$measure, method = method, test = test,
        k0 = tf$k0, se_k0 = tf$se.k0, side = tf$side, estimate = num(tf$beta), se = tf$se,
        ci_lower = tf$ci.lb, ci_upper = tf$ci.ub, pval = tf$pval, tau2 = tf$tau2,
        filled_yi = num(tf$yi[tf$fill]), filled_vi = num(tf$vi[tf$fill]),
        call = sprintf("trimfill(rma(yi, vi, method = \"%s\", test = \"%s\", %s), control = %s)",
                       method, test, tight_call, sub("control = ", "", tight_call)))
    }
  }
}
for (measure in c("OR", "RR")) {  # regtest on rma.mh / rma.peto: escalc outcomes, common effect
  for (peto in c(FALSE, TRUE)) {
    if (peto && measure == "RR") next
    res <- if (peto) rma.peto(ai = eg$events1, n1i = eg$total1, ci = eg$events2, n2i = eg$total2)
           else rma.mh(ai = eg$events1, n1i = eg$total1, ci = eg$events2, n2i = eg$total2, measure = measure)
    r <- regtest(res)
    regtests[[length(regtests) + 1]] <- list(
      dataset = "egger2001", measure = if (peto) "PETO" else measure,
      method = if (peto) "PETO" else "MH", test = "z", statistic = r$zval, pval = r$pval,
      df = NULL, limit_estimate = num(r$est), limit_ci_lower = r$ci.lb, limit_ci_upper = r$ci.ub,
      call = if (peto) "regtest(rma.peto(ai = events1, n1i = total1, ci = events2, n2i = total2))"
             else sprintf("regtest(rma.mh(ai = events1, n1i = total1, ci = events2, n2i = total2, measure = \"%s\"))", measure))
  }
}

# --- subgroups and leave-one-out --------------------------------------------------------------
subgroups <- list()
for (spec in list(c("RR", "REML", "z"), c("OR", "DL", "knha"), c("OR", "MH", "z"), c("PETO", "PETO", "z"))) {
  per <- lapply(sort(unique(bcg$alloc)), function(g) {
    s <- bcg[bcg$alloc == g, ]
    r <- if (spec[2] == "MH") rma.mh(ai = s$events1, n1i = s$total1, ci = s$events2, n2i = s$total2, measure = spec[1])
         else if (spec[2] == "PETO") rma.peto(ai = s$events1, n1i = s$total1, ci = s$events2, n2i = s$total2)
         else rma(measure = spec[1], ai = s$events1, n1i = s$total1, ci = s$events2, n2i = s$total2,
                  method = spec[2], test = spec[3], control = tight)
    list(subgroup = g, k = r$k, estimate = num(r$beta), se = r$se, ci_lower = r$ci.lb,
         ci_upper = r$ci.ub, tau2 = r$tau2, i2 = r$I2)
  })
  between <- rma(sapply(per, function(p) p$estimate), sei = sapply(per, function(p) p$se), method = "EE")
  subgroups[[length(subgroups) + 1]] <- list(
    dataset = "bcg", measure = spec[1], method = spec[2], test = spec[3], column = "alloc",
    groups = per, q_between = between$QE, q_between_df = between$k - 1, q_between_pval = between$QEp,
    call = "per subgroup: rma / rma.mh / rma.peto on subset(alloc == g); then rma(estimates, sei = ses, method = \"EE\")$QE")
}
loo <- list()
l1 <- function(res) list(estimate = num(res$estimate), se = num(res$se), ci_lower = num(res$ci.lb),
                         ci_upper = num(res$ci.ub), q = num(res$Q), q_pval = num(res$Qp),
                         i2 = num(res$I2), tau2 = if (is.null(res$tau2)) NULL else num(res$tau2))
loo[[1]] <- c(list(dataset = "bcg", measure = "RR", method = "REML", test = "z"),
              l1(leave1out(rma(bcg_rr$yi, bcg_rr$vi, control = tight))))
loo[[2]] <- c(list(dataset = "bcg", measure = "RR", method = "DL", test = "knha"),
              l1(leave1out(rma(bcg_rr$yi, bcg_rr$vi, method = "DL", test = "knha"))))
loo[[3]] <- c(list(dataset = "bcg", measure = "OR", method = "MH", test = "z"),
              l1(leave1out(rma.mh(ai = bcg$events1, n1i = bcg$total1, ci = bcg$events2, n2i = bcg$total2))))
loo[[4]] <- c(list(dataset = "bcg", measure = "PETO", method = "PETO", test = "z"),
              l1(leave1out(rma.peto(ai = bcg$events1, n1i = bcg$total1, ci = bcg$events2, n2i = bcg$total2))))
nm <- continuous$normand1999
nm_smd <- escalc(measure = "SMD", m1i = nm$mean1, sd1i = nm$sd1, n1i = nm$n1, m2i = nm$mean2,
                 sd2i = nm$sd2, n2i = nm$n2)
loo[[5]] <- c(list(dataset = "normand1999", measure = "SMD", method = "REML", test = "z"),
              l1(leave1out(rma(nm_smd$yi, nm_smd$vi, control = tight))))

out <- list(
  generated_by = "tests/pooling/golden/make_golden_measures.R",
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  fits = fits, defaults = defaults, mh = mh, regressions = regressions, regtests = regtests, trimfills = trimfills,
  subgroups = subgroups, leave1out = loo)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", na = "null", pretty = FALSE),
           file.path(here, "golden", "metafor_measures.json"))
cat("wrote", length(fits), "inverse-variance fits,", length(mh), "MH/Peto fits,",
    length(regressions), "meta-regressions,", length(regtests), "regtests,",
    length(trimfills), "trimfills\n")
