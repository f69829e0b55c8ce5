"""The demo dataset: determinism, contract, realism and the rules it was built from."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from recsvc.demo import IMPORT_FILES, generate, rules
from recsvc.ingest import ENTITY_ORDER, SCHEMAS, import_dir
from recsvc.store import Database
from recsvc.store.catalogue import CATALOGUE
from recsvc.store.frames import Frames
from tests.fixtures_demo import DEMO_TEST_CLIENTS

TREND_PRODUCTS = {"trend_analysis", "thematic_database", "key_tech_screening"}


def _read(folder: Path, entity: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{entity}.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def files(demo_dir: Path) -> dict[str, pd.DataFrame]:
    return {name: _read(demo_dir, name) for name in IMPORT_FILES}


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", n_clients=120, seed=11)
    b = generate(tmp_path / "b", n_clients=120, seed=11)
    c = generate(tmp_path / "c", n_clients=120, seed=12)
    names = sorted(p.relative_to(a.out_dir) for p in a.out_dir.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(b.out_dir) for p in b.out_dir.rglob("*") if p.is_file())
    for name in names:
        assert (a.out_dir / name).read_bytes() == (b.out_dir / name).read_bytes(), name
    assert a.path("commissions").read_bytes() != c.path("commissions").read_bytes()


def test_files_follow_the_ingest_column_contract(files: dict[str, pd.DataFrame]) -> None:
    assert set(IMPORT_FILES) == set(ENTITY_ORDER)
    for name, df in files.items():
        schema = SCHEMAS[name]
        assert set(df.columns) <= set(schema.names), (name, set(df.columns) - set(schema.names))
        assert set(schema.required) <= set(df.columns), name
        assert df["external_id"].is_unique, name
    iso = re.compile(r"^\d{4}-\d{2}-\d{2}$")
    assert files["commissions"]["commissioned_on"].str.match(iso).all()
    assert files["orders"]["ordered_on"].between("2011-01-01", "2025-12-31").all()
    assert set(files["orders"]["product_code"]) <= {e.code for e in CATALOGUE}


def test_client_mix_matches_the_seed(files: dict[str, pd.DataFrame]) -> None:
    mix = files["clients"]["kind"].value_counts(normalize=True)
    assert len(files["clients"]) == DEMO_TEST_CLIENTS
    for kind, share in rules.KIND_MIX.items():
        assert abs(mix.get(kind, 0.0) - share) < 0.05, (kind, mix.get(kind))
    years = files["clients"]["registered_on"].str[:4].astype(int)
    assert set(range(2011, 2026)) <= set(years), "new clients arrive every year"


def test_titles_are_bilingual_across_thirty_fields(files: dict[str, pd.DataFrame]) -> None:
    c = files["commissions"]
    assert c["industry_type"].nunique() >= 30
    both = (c["title_zh"] != "") & (c["title_en"] != "")
    assert both.mean() > 0.85
    zh = c.loc[c["title_zh"] != "", "title_zh"]
    assert zh.nunique() > 0.8 * len(zh), "titles must not repeat like a template"
    assert (c["keywords"].str.count(";") >= 2).all()


def test_about_ten_percent_are_chinese_only_including_sewage(
    files: dict[str, pd.DataFrame],
) -> None:
    c = files["commissions"]
    zh_only = (c["title_en"] == "") & (c["title_zh"] != "")
    assert 0.07 < zh_only.mean() < 0.13
    assert c.loc[zh_only, "title_zh"].str.contains("污水处理").any()
    en_only = (c["title_zh"] == "") & (c["title_en"] != "")
    assert 0 < en_only.sum() < 0.05 * len(c)


def test_swine_fever_vaccine_commissions_exist_in_english(files: dict[str, pd.DataFrame]) -> None:
    en = files["commissions"]["title_en"].str.lower()
    assert (en.str.contains("african swine fever") & en.str.contains("vaccine")).any() or (
        en.str.contains("swine fever vaccine").any()
    )
    assert en.str.contains("swine fever").sum() >= 5


def _buyers(orders: pd.DataFrame, year: int, products: set[str] | None = None) -> set[str]:
    o = orders[(orders["status"] != "cancelled") & (orders["ordered_on"].str[:4] == str(year))]
    if products is not None:
        o = o[o["product_code"].isin(products)]
    return set(o["client_external_id"])


def test_repeated_commissions_in_one_field_precede_trend_products(
    files: dict[str, pd.DataFrame],
) -> None:
    c, o = files["commissions"], files["orders"]
    hit, hit_n, base, base_n = 0, 0, 0, 0
    for year in range(2015, 2026):
        window = c[
            (c["commissioned_on"] >= f"{year - 2}-01-01") & (c["commissioned_on"] < f"{year}")
        ]
        per_field = window.groupby(["client_external_id", "industry_type"]).size()
        repeated = set(per_field[per_field >= 3].index.get_level_values(0))
        active = set(window["client_external_id"])
        buyers = _buyers(o, year, TREND_PRODUCTS)
        hit += len(repeated & buyers)
        hit_n += len(repeated)
        base += len((active - repeated) & buyers)
        base_n += len(active - repeated)
    assert hit_n > 50
    assert hit / hit_n > 3 * base / base_n, (hit / hit_n, base / base_n)


def test_patent_purposes_precede_patent_analysis(files: dict[str, pd.DataFrame]) -> None:
    c, o = files["commissions"], files["orders"]
    purpose = c.set_index("external_id")["purpose"]
    linked = o[(o["product_code"] == "patent_analysis") & (o["commission_external_id"] != "")]
    assert len(linked) > 10
    assert (purpose[linked["commission_external_id"]] == "patent_application").mean() > 0.6
    hit, hit_n, base, base_n = 0, 0, 0, 0
    for year in range(2015, 2026):
        window = c[
            (c["commissioned_on"] >= f"{year - 1}-01-01") & (c["commissioned_on"] < f"{year}")
        ]
        patent = set(window.loc[window["purpose"] == "patent_application", "client_external_id"])
        other = set(window["client_external_id"]) - patent
        buyers = _buyers(o, year, {"patent_analysis", "patent_pre_assessment"})
        hit, hit_n = hit + len(patent & buyers), hit_n + len(patent)
        base, base_n = base + len(other & buyers), base_n + len(other)
    assert hit / hit_n > 2.5 * base / base_n, (hit / hit_n, base / base_n)


def test_orders_link_to_earlier_commissions_of_the_same_client(
    files: dict[str, pd.DataFrame],
) -> None:
    c = files["commissions"].set_index("external_id")
    o = files["orders"]
    linked = o[o["commission_external_id"] != ""]
    assert 0.3 < len(linked) / len(o) < 0.95
    src = c.loc[linked["commission_external_id"]]
    assert (src["client_external_id"].to_numpy() == linked["client_external_id"].to_numpy()).all()
    assert (src["commissioned_on"].to_numpy() < linked["ordered_on"].to_numpy()).all()


def test_purchases_spread_over_products_and_respect_eligibility(
    files: dict[str, pd.DataFrame],
) -> None:
    o = files["orders"].merge(
        files["clients"][["external_id", "kind"]],
        left_on="client_external_id",
        right_on="external_id",
    )
    share = o["product_code"].value_counts(normalize=True)
    assert len(share) == len(CATALOGUE)
    assert share.iloc[0] < 0.25, "one product must not dominate"
    for entry in CATALOGUE:
        if entry.eligible_kinds is not None:
            kinds = set(o.loc[o["product_code"] == entry.code, "kind"])
            assert kinds <= set(entry.eligible_kinds), entry.code
    assert (o["status"] == "cancelled").mean() < 0.15


def test_purchases_follow_a_sales_cycle_within_a_budget(
    demo_dir: Path, files: dict[str, pd.DataFrame]
) -> None:
    o = files["orders"]
    truth = pd.read_csv(demo_dir / "truth" / "orders_truth.csv", keep_default_na=False)
    assert truth["order_external_id"].tolist() == o["external_id"].tolist()
    ordered = pd.PeriodIndex(o["ordered_on"].str[:7], freq="M")
    opened = pd.PeriodIndex(truth["need_month"], freq="M")
    lag = np.array([(a - b).n for a, b in zip(ordered, opened, strict=True)])
    low = rules.LAG_MIN_MONTHS
    assert lag.min() >= low and lag.max() <= low + rules.LAG_SPAN
    assert 4 < lag.mean() < 7
    ok = o[o["status"].isin(["paid", "delivered"])]
    per_year = ok.groupby([ok["ordered_on"].str[:4], "client_external_id"])["product_code"]
    distinct = per_year.nunique()
    assert distinct.mean() < 1.4, distinct.mean()
    assert (distinct <= 2).mean() > 0.95


def test_yearly_base_rate_is_in_the_modelling_range(files: dict[str, pd.DataFrame]) -> None:
    cl, o = files["clients"], files["orders"]
    for year in (2024, 2025):
        registered = set(cl.loc[cl["registered_on"] < f"{year}", "external_id"])
        rate = len(registered & _buyers(o, year)) / len(registered)
        assert 0.06 < rate < 0.22, (year, rate)


def test_growing_fields_grow_and_complaints_miss_targets_sometimes(
    files: dict[str, pd.DataFrame],
) -> None:
    c = files["commissions"]
    year = c["commissioned_on"].str[:4].astype(int)
    share = (
        c.assign(year=year)
        .groupby("year")["industry_type"]
        .apply(lambda s: s.isin(["氢能", "人工智能与机器视觉"]).mean())
    )
    assert share.loc[2023:2025].mean() > 2 * share.loc[2011:2015].mean()
    cp = files["complaints"]
    assert set(cp["severity"]) == {"general", "serious", "critical"}
    hours = (
        pd.to_datetime(cp["responded_at"].replace("", None)) - pd.to_datetime(cp["opened_at"])
    ).dt.total_seconds() / 3600
    target = cp["severity"].map({"general": 48, "serious": 24, "critical": 8})
    late = (hours > target)[hours.notna()]
    assert 0.05 < late.mean() < 0.5


def test_truth_is_written_but_not_importable(demo_dir: Path, demo_db: Database) -> None:
    truth = demo_dir / "truth"
    assert {"clients_truth.csv", "orders_truth.csv", "rules.json"} <= {
        p.name for p in truth.iterdir()
    }
    assert {p.stem for p in demo_dir.iterdir() if p.is_file()} == set(IMPORT_FILES)
    assert not {p.stem for p in truth.iterdir()} & set(ENTITY_ORDER)
    data = json.loads((truth / "rules.json").read_text(encoding="utf-8"))
    assert data["purchase_coef"] == rules.PURCHASE_COEF
    assert len(data["fields"]) >= 30
    assert demo_db.counts()["clients"] == DEMO_TEST_CLIENTS
    segs = pd.read_csv(truth / "clients_truth.csv", keep_default_na=False)
    ent = segs[segs["kind"] == "enterprise"]["segment"].value_counts(normalize=True)
    assert 0.07 < ent["key"] < 0.2 and 0.15 < ent["potential"] < 0.35


def test_personal_data_appears_only_in_contacts(
    demo_dir: Path, files: dict[str, pd.DataFrame]
) -> None:
    contacts = files["contacts"]
    secrets = set(contacts["name"]) | set(contacts["email"]) | set(contacts["phone"])
    secrets |= set(contacts["registered_name"])
    email = re.compile(r"[\w.]+@[\w.]+\.\w+")
    phone = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
    for name, df in files.items():
        if name == "contacts":
            continue
        cells = set(df.to_numpy().ravel().tolist())
        assert not cells & secrets, name
        text = (demo_dir / f"{name}.csv").read_text(encoding="utf-8")
        assert not email.search(text), name
        assert not phone.search(text), name


def test_import_twice_leaves_counts_unchanged(demo_db: Database, demo_dir: Path) -> None:
    before = demo_db.counts()
    reports = import_dir(demo_db, demo_dir)
    assert demo_db.counts() == before
    assert all(r.inserted == 0 and r.updated == 0 for r in reports)
    files = {name: _read(demo_dir, name) for name in IMPORT_FILES}
    for name in IMPORT_FILES:
        assert before[name] == len(files[name]), name


def test_frames_of_the_demo_store(demo_frames: Frames) -> None:
    assert len(demo_frames.clients) == DEMO_TEST_CLIENTS
    assert demo_frames.latest_date <= pd.Timestamp("2025-12-31")
    assert demo_frames.orders["product_code"].nunique() == len(CATALOGUE)
    assert demo_frames.commissions["recognition_score"].between(1, 5).all()


def test_cli_demo_data_is_safe_to_rerun(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from recsvc.cli import _common, app
    from recsvc.config import Settings
    from recsvc.store import Database

    monkeypatch.setenv("RECSVC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RECSVC_DATABASE_URL", f"sqlite:///{tmp_path / 'data' / 'recsvc.db'}")
    _common.settings.cache_clear()
    db: Database | None = None
    try:
        runner = CliRunner()
        args = ["demo-data", "--clients", "60", "--seed", "5"]
        first = runner.invoke(app, args)
        assert first.exit_code == 0, first.output
        db = Database.from_settings(Settings())  # the store the command wrote
        counts = db.counts()
        second = runner.invoke(app, args)
        assert second.exit_code == 0, second.output
        assert db.counts() == counts
        assert counts["clients"] == 60
        assert (tmp_path / "data" / "demo" / "truth" / "rules.json").is_file()
    finally:
        if db is not None:
            db.dispose()
        _common.settings.cache_clear()


def test_latent_traits_drive_observable_profiles(demo_dir: Path) -> None:
    truth = pd.read_csv(demo_dir / "truth" / "clients_truth.csv")
    cl = pd.read_csv(demo_dir / "clients.csv")
    merged = truth.merge(cl, on="external_id")
    corr = np.corrcoef(merged["rd_strength"], np.log1p(merged["patents_invention"]))[0, 1]
    assert corr > 0.5


@pytest.mark.parametrize("seed", [3, 17])
def test_tiny_worlds_write_complete_files(tmp_path: Path, seed: int) -> None:
    manifest = generate(tmp_path, n_clients=1, seed=seed)
    for name in IMPORT_FILES:
        header = manifest.path(name).read_text(encoding="utf-8").splitlines()[0]
        assert header.startswith("external_id,"), name
    db = Database.from_url("sqlite://")
    db.upgrade()
    import_dir(db, tmp_path)
    assert db.counts()["clients"] == 1


def test_latent_traits_beyond_activity_drive_purchases(demo_dir: Path) -> None:
    cl = pd.read_csv(demo_dir / "clients.csv")
    orders = pd.read_csv(demo_dir / "orders.csv")
    truth = pd.read_csv(demo_dir / "truth" / "clients_truth.csv")
    bought = orders[orders["status"].isin(["paid", "delivered"]) & (orders["ordered_on"] >= "2020")]
    truth = truth[truth["external_id"].isin(cl.loc[cl["registered_on"] < "2020", "external_id"])]
    truth = truth.assign(buy=truth["external_id"].isin(bought["client_external_id"]))
    for trait in ("rd_strength", "satisfaction"):
        rate = truth.groupby(pd.qcut(truth[trait], 3, labels=False))["buy"].mean()
        assert rate.iloc[2] > 2 * rate.iloc[0], (trait, rate.tolist())


def test_field_vocabulary_is_packaged_data_loaded_once(tmp_path: Path) -> None:
    from recsvc.demo.fields import FIELD_INDEX, FIELDS, FIELDS_FILE, load_fields

    raw = json.loads(FIELDS_FILE.read_text(encoding="utf-8"))
    assert [f["code"] for f in raw] == [f.code for f in FIELDS]
    assert len(FIELD_INDEX) == len(FIELDS) >= 30
    assert all(FIELDS[i].code == code for code, i in FIELD_INDEX.items())
    for f in FIELDS:
        for terms in (f.obj, f.proc, f.tech, f.app, f.prop):
            assert terms and all(zh and en for zh, en in terms), f.code
    assert FIELDS[0].obj[0] == ("猪瘟病毒", "classical swine fever virus")
    assert any(zh.startswith("*") for f in FIELDS for zh, _ in f.proc)
    # a copy of the file loads to equal fields; an edited copy loads the edit
    raw[0]["weight"] = 9.5
    edited = tmp_path / "fields.json"
    edited.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    again = load_fields(edited)
    assert again[1:] == FIELDS[1:] and again[0].weight == 9.5
