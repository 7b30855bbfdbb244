"""Generate a large labelled deduplication corpus from real records, with realistic noise.

Real records come from the three labelled dedup sets (one record per true group) and the three
Cohen (2006) screening sets (tests/data/dedup, ../shared/data/screening). There are ~7,000 of
them, so further *distinct* papers are made by recombining real ones (the first half of one
real title with the second half of another, the authors of a third, the journal, year and
volume of a fourth, new pages): they read like real records and many share words, authors and
journals, which makes them hard negatives. Then about a third of the papers get one or two
duplicates, each with the noise of another database's export: dropped or URL-formatted DOIs,
dropped PMIDs, abbreviated journal names, "Last, First" versus "Last FM" authors, truncated
author lists, typos, case changes, PubMed-style bracketed translated titles with a language
note, HTML entities, abbreviated page ranges (221-8), missing abstracts, online-first records
(no volume or pages, a year earlier).

``--export-noise P`` adds, each with probability P per duplicate, the export faults of issue 15:
a database record number in the issue field, page ranges turned into dates by a spreadsheet
("1-8" → "01-Aug") or dropped or written as two ranges ("233-8, 230-5" against "233-238"),
"[Electronic Resource]" after the journal, a dropped volume, an author list cut to its first
author and "et al.", given names first ("C. M. Legendre"), Greek letters for "alpha"/"beta"
and markup (<i>, <sup>) in titles. (Translated titles need a second language and are not made.)

    .venv/bin/python benchmarks/make_dedup_corpus.py --records 100000 --out /tmp/dedup100k

writes records.csv (bib-dedupe/CoLRev columns, key ID) and merged_record_ids.csv (the truth).
"""

from __future__ import annotations

import argparse
import csv
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEDUP = ROOT / "tests" / "data" / "dedup"
SCREENING = ROOT.parent / "shared" / "data" / "screening"
COLUMNS = ("ID", "ENTRYTYPE", "title", "author", "year", "journal", "volume", "number", "pages",
           "doi", "pmid", "abstract")  # fmt: skip
LANGUAGES = ("German", "French", "Spanish", "Italian", "Japanese", "Chinese", "Polish")
_STOP = {"of", "and", "the", "in", "for", "on", "&"}


def load_real() -> list[dict[str, str]]:
    csv.field_size_limit(1 << 24)
    records: list[dict[str, str]] = []
    for name in ("cytology_screening", "haematology", "special_cases"):
        folder = DEDUP / name
        grouped = set()
        with (folder / "merged_record_ids.csv").open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                grouped.update(row["merged_ids"].split(";")[1:])  # keep the first of a group
        with (folder / "records_pre_merged.csv").open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row["ID"] in grouped or not row.get("title"):
                    continue
                records.append(
                    {
                        "title": row["title"], "author": row.get("author", ""),
                        "year": row.get("year", ""),
                        "journal": row.get("journal") or row.get("booktitle", ""),
                        "volume": row.get("volume", ""),
                        "number": row.get("number") or row.get("issue", ""),
                        "pages": row.get("pages", ""), "doi": row.get("doi", ""),
                        "abstract": row.get("abstract", ""), "pmid": "",
                    }
                )  # fmt: skip
    seen_pmids: set[str] = set()
    for path in sorted(SCREENING.glob("Cohen2006_*.csv")):
        with path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                pmid = row.get("pubmedID", "")
                if not row.get("title") or pmid in seen_pmids:
                    continue
                seen_pmids.add(pmid)
                authors = [a.strip() for a in row.get("authors", "").split(";") if a.strip()]
                records.append(
                    {
                        "title": row["title"], "author": " and ".join(authors),
                        "year": row.get("year", ""), "journal": "", "volume": "",
                        "number": "", "pages": "", "doi": "", "abstract": row.get("abstract", ""),
                        "pmid": pmid,
                    }
                )  # fmt: skip
    return records


def recombine(rng: random.Random, pool: list[dict[str, str]], n: int) -> dict[str, str]:
    a, b, c, d = (rng.choice(pool) for _ in range(4))
    wa, wb = a["title"].rstrip(".").split(), b["title"].rstrip(".").split()
    title = " ".join(wa[: max(2, len(wa) // 2)] + wb[len(wb) // 2 :])
    first = rng.randint(1, 2000)
    record = {
        "title": title,
        "author": c["author"],
        "year": d["year"] or str(rng.randint(1990, 2023)),
        "journal": d["journal"] or rng.choice([r["journal"] for r in pool[:3000] if r["journal"]]),
        "volume": str(rng.randint(1, 300)),
        "number": str(rng.randint(1, 12)),
        "pages": f"{first}-{first + rng.randint(1, 15)}",
        "doi": "",
        "abstract": " ".join(a["abstract"].split(". ")[:2] + b["abstract"].split(". ")[2:]),
        "pmid": "",
    }
    return record


def abbreviate_journal(name: str) -> str:
    """ISO-4-like abbreviation of the journal part (a conference suffix is kept as is)."""
    if ".Conference:" in name:
        journal, _, meeting = name.partition(".Conference:")
        return abbreviate_journal(journal) + ".Conference:" + meeting
    words = [w for w in re.split(r"[\s:]+", name) if w and w.lower() not in _STOP]
    out = []
    for w in words:
        if w.lower() == "journal":
            out.append("J")
        elif len(w) > 6:
            out.append(w[: max(3, len(w) // 2)].rstrip("aeiou") or w[:3])
        else:
            out.append(w)
    return " ".join(out)


def reformat_authors(rng: random.Random, authors: str) -> str:
    names = [a.strip() for a in re.split(r"\s+and\s+|;", authors) if a.strip()]
    out = []
    for name in names:
        if "," in name:
            last, _, given = name.partition(",")
            initials = "".join(p[0] for p in re.split(r"[\s.\-]+", given) if p)
        else:
            parts = name.split()
            last, initials = (" ".join(parts[-1:]), "".join(p[0] for p in parts[:-1]))
        out.append(f"{last} {initials}".strip())
    if rng.random() < 0.1 and len(out) > 3:
        out = out[:3]
    sep = rng.choice(["; ", ", "]) if rng.random() < 0.5 else " and "
    return sep.join(out)


def typo(rng: random.Random, text: str) -> str:
    if len(text) < 10:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.random()
    if kind < 0.4:
        return text[:i] + text[i + 1 :]
    if kind < 0.7:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + rng.choice("aeiourstln") + text[i + 1 :]


def short_pages(pages: str) -> str:
    m = re.match(r"^(\d+)-(\d+)$", pages)
    if not m or len(m.group(1)) != len(m.group(2)):
        return pages
    first, last = m.groups()
    k = 0
    while k < len(first) - 1 and first[k] == last[k]:
        k += 1
    return f"{first}-{last[k:]}"


def duplicate(rng: random.Random, rec: dict[str, str]) -> dict[str, str]:
    dup = dict(rec)
    if dup["doi"]:
        r = rng.random()
        if r < 0.35:
            dup["doi"] = ""
        elif r < 0.6:
            dup["doi"] = (
                rng.choice(["https://doi.org/", "doi:", "http://dx.doi.org/"]) + dup["doi"].upper()
            )
    if dup["pmid"] and rng.random() < 0.6:
        dup["pmid"] = ""
    if dup["journal"] and rng.random() < 0.5:
        dup["journal"] = abbreviate_journal(dup["journal"])
    if rng.random() < 0.6:
        dup["author"] = reformat_authors(rng, dup["author"])
    title = dup["title"].rstrip(".")
    if rng.random() < 0.3:
        title = typo(rng, title)
    if rng.random() < 0.05:
        title = typo(rng, title)
    if rng.random() < 0.15:
        title = title.lower() if rng.random() < 0.7 else title.title()
    if rng.random() < 0.05:
        title = f"[{title}]. [Article in {rng.choice(LANGUAGES)}]"
    elif rng.random() < 0.3:
        title += "."
    title = title.replace(" & ", " &amp; ") if rng.random() < 0.5 else title
    dup["title"] = title
    if rng.random() < 0.5:
        dup["pages"] = short_pages(dup["pages"])
    if rng.random() < 0.3:
        dup["abstract"] = ""
    if rng.random() < 0.05 and dup["year"].isdigit():  # online first: a year earlier, no issue
        dup["year"] = str(int(dup["year"]) - 1)
        dup["volume"] = dup["number"] = dup["pages"] = ""
    return dup


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def as_date(pages: str) -> str:
    """What a spreadsheet makes of a short range: "1-8" → "01-Aug", "5-12" → "May-12"."""
    m = re.match(r"^(\d+)-(\d+)$", pages)
    if not m:
        return pages
    first, last = int(m.group(1)), int(m.group(2))
    if 1 <= last <= 12 and 1 <= first <= 28:
        return f"{first:02d}-{MONTHS[last - 1]}"
    if 1 <= first <= 12 and last <= 99:
        return f"{MONTHS[first - 1]}-{last:02d}"
    return pages


def given_first(authors: str) -> str:
    """ "Legendre, Christophe M." → "Christophe M. Legendre" (names without a comma stay)."""
    names = [a.strip() for a in re.split(r"\s+and\s+|;", authors) if a.strip()]
    if len(names) == 1 and names[0].count(",") > 1:
        return authors  # "Smith JA, Jones K": a comma-separated list, not "Last, First"
    out = []
    for name in names:
        last, comma, given = name.partition(",")
        out.append(f"{given.strip()} {last.strip()}" if comma and given.strip() else name)
    return " and ".join(out)


def export_noise(rng: random.Random, dup: dict[str, str], p: float) -> None:
    if rng.random() < p:
        dup["number"] = rng.choice([str(rng.randint(2000000000, 2019999999)),
                                    f"CN-{rng.randint(0, 2000000):08d}"])  # fmt: skip
    if rng.random() < p:
        r = rng.random()
        m = re.match(r"^(\d+)-(\d+)$", dup["pages"])
        if r < 0.4:
            dup["pages"] = as_date(dup["pages"])
        elif r < 0.7:
            dup["pages"] = ""
        elif m:
            before = max(1, int(m.group(1)) - rng.randint(3, 10))
            dup["pages"] = f"{dup['pages']}, {before}-{before + rng.randint(1, 3)}"
    if rng.random() < p and dup["journal"]:
        dup["journal"] += " [Electronic Resource]"
    if rng.random() < p:
        dup["volume"] = ""
    if rng.random() < p and dup["author"]:
        r = rng.random()
        first = re.split(r"\s+and\s+|;", dup["author"])[0].strip()
        cut = rng.choice([f"{first}; et al.", f"{first} and others"])
        dup["author"] = cut if r < 0.5 else given_first(dup["author"])
    if rng.random() < p:
        title = re.sub(r"\balpha\b", "α", dup["title"], flags=re.I)
        title = re.sub(r"\bbeta\b", "β", title, flags=re.I)
        title = re.sub(r"\b(in vitro|in vivo)\b", r"<i>\1</i>", title, flags=re.I)
        dup["title"] = re.sub(r"\b(CD\d+)\+", r"\1<sup>+</sup>", title)


def generate(
    total: int, seed: int, export: float = 0.0
) -> tuple[list[dict[str, str]], list[list[str]]]:
    rng = random.Random(seed)
    real = load_real()
    rng.shuffle(real)
    papers: list[dict[str, str]] = []
    records: list[dict[str, str]] = []
    groups: list[list[str]] = []
    n_papers = int(total / 1.37)
    for i in range(n_papers):
        paper = dict(real[i]) if i < len(real) else recombine(rng, real, i)
        if not paper["doi"] and rng.random() < 0.6:
            paper["doi"] = f"10.{rng.randint(1000, 9999)}/rf.{i:07d}"
        if not paper["pmid"] and rng.random() < 0.4:
            paper["pmid"] = str(40_000_000 + i)
        papers.append(paper)
    for paper in papers:
        copies = [paper]
        r = rng.random()
        if r < 0.30:
            copies.append(duplicate(rng, paper))
        if r < 0.06:
            copies.append(duplicate(rng, paper))
        if export:
            for copy in copies[1:]:
                export_noise(rng, copy, export)
        ids = []
        for copy in copies:
            if len(records) >= total:
                break
            rid = f"r{len(records) + 1:07d}"
            records.append({"ID": rid, "ENTRYTYPE": "article", **copy})
            ids.append(rid)
        if len(ids) > 1:
            groups.append(ids)
    # fill up to the total with single papers if the draw fell short
    while len(records) < total:
        paper = recombine(rng, real, len(records))
        records.append({"ID": f"r{len(records) + 1:07d}", "ENTRYTYPE": "article", **paper})
    order = list(range(len(records)))
    rng.shuffle(order)
    return [records[i] for i in order], groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20061)
    parser.add_argument("--out", type=Path, default=Path("/tmp/dedup_corpus"))
    parser.add_argument("--export-noise", type=float, default=0.0, metavar="P")
    args = parser.parse_args()
    records, groups = generate(args.records, args.seed, args.export_noise)
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "records.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for record in records:
            writer.writerow({k: record.get(k, "") for k in COLUMNS})
    with (args.out / "merged_record_ids.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["merged_ids"])
        for group in groups:
            writer.writerow([";".join(group)])
    pairs = sum(len(g) * (len(g) - 1) // 2 for g in groups)
    print(f"{len(records)} records, {len(groups)} duplicate groups ({pairs} pairs) in {args.out}")


if __name__ == "__main__":
    main()
