"""`make report` end to end: the bundled sample is built, the report rendered masked and
unmasked through the CLI, and the pages opened in headless Chromium.

Also: the re-scored review pairs and the churn holdout curves are the build's own numbers,
masked pages hold no personal value, no page holds an erased customer's records, and the
parts that guard privacy and the offline promise fail loudly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import roc_auc_score

from browser import Browser
from c360.report import masking, queries
from c360.report.build import Options, build_report, project_var
from c360.report.churn_holdout import holdout_predictions
from c360.report.identity import Scorer
from c360.report.site import offline
from conftest import MASKING_KEY, PROJECT_DIR, SampleBuild, query

SCREENSHOTS = PROJECT_DIR / "target" / "report_test"
DRAWN = "document.querySelectorAll('svg, canvas').length"
CHART_PAGES = [
    "identity_model.html",
    "review.html",
    "review_comparison_viewer.html",
    "clusters_largest.html",
    "clusters_conflicted.html",
    "quality.html",
    "churn.html",
]


# ---------------------------------------------------------------- unit


def test_masking_hashes_personal_text_and_keeps_the_year_of_dates() -> None:
    table = pa.table(
        {
            "person_record_id_l": ["crm:C1"],
            "email_key_l": ["jane@example.com"],
            "email_key_r": [None],
            "birth_date_r": [dt.date(1980, 7, 14)],
            "match_weight": [3.5],
        }
    )
    masked = masking.mask_table(table, ["person_record_id", "email_key", "birth_date"])
    assert masked.column("person_record_id_l").to_pylist() == ["crm:C1"]
    digest = masked.column("email_key_l")[0].as_py()
    assert digest == masking.mask_text("jane@example.com") and len(digest) == 12
    assert "jane" not in digest
    assert masked.column("email_key_r").to_pylist() == [None]
    assert masked.column("birth_date_r").to_pylist() == [dt.date(1980, 1, 1)]
    assert masked.column("match_weight").to_pylist() == [3.5]


def test_masking_refuses_a_personal_column_it_cannot_mask() -> None:
    with pytest.raises(TypeError, match="phone_number"):
        masking.mask_table(pa.table({"phone_number": [5551234]}), ["phone_number"])


def test_offline_drops_web_fonts_and_fails_on_any_other_external_load() -> None:
    page = (
        '<link rel="preconnect" href="https://fonts.googleapis.com">'
        '<link href="https://fonts.googleapis.com/css2?family=X" rel="stylesheet">'
        '<a href="https://example.com">a link is not a load</a><script src="assets/v.js"></script>'
    )
    assert "fonts.googleapis" not in offline(page)
    with pytest.raises(RuntimeError, match=r"cdn\.jsdelivr\.net"):
        offline('<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>')
    with pytest.raises(RuntimeError, match=r"//example\.org"):
        offline('<img src="//example.org/pixel.png">')


def test_a_warehouse_without_the_marts_fails_naming_them(tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with (
        queries.connect(str(empty)) as con,
        pytest.raises(queries.MissingRelation, match=r"main\.identity_review_queue"),
    ):
        queries.check_relations(con)


def test_the_report_never_replaces_a_folder_it_did_not_write(tmp_path: Path) -> None:
    precious = tmp_path / "notes"
    precious.mkdir()
    (precious / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a report folder"):
        build_report(tmp_path / "missing.duckdb", precious, Options())
    assert (precious / "keep.txt").read_text() == "mine"


# ---------------------------------------------------------------- on the bundled sample


@pytest.fixture(scope="module")
def warehouse(sample_build: SampleBuild) -> Path:
    """The session's build of the sample (the report only reads it)."""
    return sample_build.db


def render(db: Path, out: Path, *flags: str) -> float:
    """`python -m c360.report` as `make report` runs it; its wall time."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "c360.report", "--db", str(db), "--out", str(out), *flags],
        cwd=PROJECT_DIR,
        env={**os.environ, "C360_MASKING_KEY": MASKING_KEY},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return time.perf_counter() - start


@pytest.fixture(scope="module")
def masked(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("masked") / "reports"
    seconds = render(warehouse, out)  # masked is the default
    print(f"report (masked) on the sample: {seconds:.1f} s")
    return out


@pytest.fixture(scope="module")
def unmasked(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("unmasked") / "reports"
    render(warehouse, out, "--unmasked")
    return out


def pages_text(site: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(site.glob("*.html")))


@pytest.mark.integration
def test_pages_draw_their_charts_offline_without_errors(masked: Path) -> None:
    if shutil.which("chromium") is None:
        pytest.fail("chromium is not installed: apt-get install -y chromium (.ci/run does)")
    with Browser() as browser:
        index = browser.visit((masked / "index.html").as_uri())
        links = browser.evaluate("document.querySelectorAll('a[href$=\".html\"]').length")
        assert links >= len(CHART_PAGES), "the index links every page"
        visits = [index]
        for page in CHART_PAGES:
            visit = browser.visit((masked / page).as_uri(), until=f"{DRAWN} > 0")
            drawn = browser.evaluate(DRAWN)
            assert drawn > 0, f"{page} drew no chart"
            visits.append(visit)
            if page == "quality.html":
                browser.screenshot(SCREENSHOTS / "quality.png")
    for visit in visits:
        assert visit.errors == [], f"{visit.url}: {visit.errors}"
        assert visit.requests, f"{visit.url}: no request recorded at all"
        off_disk = [url for url in visit.requests if not url.startswith("file://")]
        assert off_disk == [], f"{visit.url} requested {off_disk}"


@pytest.mark.integration
def test_no_page_loads_anything_from_the_network(masked: Path) -> None:
    for page in sorted(masked.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        assert offline(text) == text, page.name
        assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)=\"https?:", text)


@pytest.mark.integration
def test_rescored_review_pairs_are_the_builds_scores(warehouse: Path) -> None:
    with queries.connect(str(warehouse)) as con:
        population = queries.matching_records(con)
        review = queries.review_pairs(con, 20)
        ids = sorted(
            set(review.column("person_record_id_l").to_pylist())
            | set(review.column("person_record_id_r").to_pylist())
        )
        records = queries.records_of(con, ids)
    assert review.num_rows == 20
    scorer = Scorer.over(population)
    scored = scorer.score(records, review, "check_pairs", masked=False).as_pyarrow_table()
    assert (
        scored.column("person_record_id_l").to_pylist()
        == review.column("person_record_id_l").to_pylist()
    )
    np.testing.assert_allclose(
        scored.column("match_probability").to_numpy(),
        review.column("match_probability").to_numpy(),
        rtol=1e-9,
    )


@pytest.mark.integration
def test_churn_curves_use_the_builds_holdout_predictions(warehouse: Path) -> None:
    with queries.connect(str(warehouse)) as con:
        sample = queries.churn_training_sample(con)
        metrics = queries.churn_metrics(con).to_pylist()
    auc = {r["model_name"]: r["metric_value"] for r in metrics if r["metric"] == "roc_auc"}
    holdout = holdout_predictions(
        sample,
        seed=int(project_var(PROJECT_DIR, "churn_seed")),
        max_training_rows=metrics[0]["training_rows"],
    )
    assert len(holdout.labels) == metrics[0]["holdout_rows"]
    assert holdout.snapshot_date == metrics[0]["holdout_snapshot_date"]
    assert roc_auc_score(holdout.labels, holdout.classifier) == pytest.approx(
        auc["churn_classifier"], abs=1e-12
    )
    assert roc_auc_score(holdout.labels, holdout.baseline) == pytest.approx(
        auc["baseline_days_since_last_order"], abs=1e-12
    )


def shown_identifiers(warehouse: Path) -> list[str]:
    """Emails and phones of the review pairs the report shows (the queue's first pairs, as
    the report reads them)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        pairs = queries.review_pairs(con, Options.review_pairs)
    columns = ("email_l", "email_r", "phone_e164_l", "phone_e164_r")
    return sorted({v for c in columns for v in pairs.column(c).to_pylist() if v is not None})


@pytest.mark.integration
def test_masked_pages_show_no_email_or_phone_but_their_hashes(
    masked: Path, unmasked: Path, warehouse: Path
) -> None:
    values = shown_identifiers(warehouse)
    emails = [v for v in values if "@" in v]
    assert len(emails) > 20
    masked_text, clear_text = pages_text(masked), pages_text(unmasked)
    leaked = [v for v in values if v in masked_text]
    assert leaked == [], f"masked pages show {leaked[:5]}"
    # the review table shows the mart's values masked, the dashboards the match keys masked
    assert any(masking.mask_text(v, MASKING_KEY.encode()) in masked_text for v in emails)
    # keyed: a plain SHA-256 of a shown value, what hashing a guess gives, is on no page
    assert not any(hashlib.sha256(v.encode()).hexdigest()[:12] in masked_text for v in values)
    assert sum(v in clear_text for v in values) > len(values) / 2, "unmasked shows them"
    viewer = "review_comparison_viewer.html"
    assert "Masked: personal values" in (masked / viewer).read_text(encoding="utf-8")
    assert "Unmasked: personal values" in (unmasked / viewer).read_text(encoding="utf-8")


@pytest.mark.integration
def test_no_page_shows_an_erased_customers_records(unmasked: Path, warehouse: Path) -> None:
    erased = query(
        warehouse,
        """
        select distinct records.person_record_id, records.email
        from intermediate.int_erased_customers as erased
        inner join intermediate.int_person_records_customer_ids as clustered
            on erased.customer_id = clustered.customer_id
        inner join intermediate.int_person_records_unioned as records
            on clustered.person_record_id = records.person_record_id
        """,
    )
    assert erased, "the sample has erasure requests"
    others = {
        email
        for (email,) in query(
            warehouse,
            """
            select records.email
            from customer_identifiers
            inner join intermediate.int_person_records_unioned as records
                using (person_record_id)
            """,
        )
    }
    text = pages_text(unmasked)
    for record_id, email in erased:
        assert not re.search(re.escape(record_id) + r"(?![0-9])", text), record_id
        if email and email not in others:  # an email shared with someone else may be theirs
            assert email not in text, email
