"""What gets embedded: one :class:`Doc` per commission, client, product and case.

- **commissions**: English title + Chinese title + keywords.
- **clients** (research direction): industry field, core technologies, core products
  and the titles of the client's most recent commissions.
- **products**: catalogue names and descriptions, English and Chinese.
- **cases**: a commission followed within 12 months by a value-added order of the same
  client (one case per order and product, triggered by the order's commission or else
  the client's latest commission before it). Each case carries an *anonymised*
  summary in English and Chinese built from the client kind, industry field, the
  commission's keywords or subject and the product name; never the client's name nor
  the commission's title. A keyword enters a summary only when at least
  :data:`CASE_KEYWORD_MIN_CLIENTS` different clients have used it (k-anonymity: a
  keyword only one client uses would point at that client); otherwise the summary
  falls back to the commission's subject area or the industry field. Case ids are
  opaque hashes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from recsvc.semantic.embedders import Embedder, coverage
from recsvc.semantic.text import in_script, normalise
from recsvc.store.frames import Frames
from recsvc.store.labels import CASE_KIND_PHRASES, field_phrase

KINDS = ("commissions", "clients", "products", "cases")
RECENT_TITLES = 10
CASE_WINDOW = pd.DateOffset(months=12)
CASE_KEYWORD_MIN_CLIENTS = 3
#: Kinds whose stored records are also queries (``similar_commissions``, ``similar_cases``
#: by commission): each remembers how much of its text the model could see.
COVERED_KINDS = ("commissions",)


@dataclass
class Doc:
    """One searchable record. ``client_id`` is internal and never shown in portal scope."""

    key: int | str
    text: str
    title: str
    summary: str
    client_id: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def mark_coverage(docs: list[Doc], embedder: Embedder) -> None:
    """Set ``meta["coverage"]`` on each doc the embedder could not fully see.

    The share of a text the model knows (e.g. about 0 for Chinese under the English
    model) is only known where the model is; a search that starts from a stored record
    reads it here instead, and skips the record's vector when it is mostly noise.
    Fully visible docs carry nothing (a missing value means 1.0).
    """
    if not callable(getattr(embedder, "coverage", None)):
        return
    for doc in docs:
        seen = coverage(embedder, doc.text)
        if seen < 1.0:
            doc.meta["coverage"] = round(seen, 3)
        else:
            doc.meta.pop("coverage", None)


def _s(value: Any) -> str:
    return (
        "" if value is None or (isinstance(value, float) and pd.isna(value)) else normalise(value)
    )


def _join(*parts: Any, sep: str = "\n") -> str:
    return sep.join(p for p in (_s(x) for x in parts) if p)


def _keywords(value: Any) -> list[str]:
    return [k.strip() for k in re.split(r"[;；,，、]", _s(value)) if k.strip()]


def _date(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(pd.Timestamp(value).date())


def commission_doc(row: Any) -> Doc:
    """A commission row (a frames.commissions record) as a :class:`Doc`."""
    keywords = "; ".join(_keywords(row.get("keywords")))
    title_zh, title_en = _s(row.get("title_zh")), _s(row.get("title_en"))
    return Doc(
        key=int(row["commission_id"]),
        text=_join(title_en, title_zh, keywords),
        title=title_zh or title_en,
        summary=_join(title_en, keywords, sep=" | ") if title_zh else keywords,
        client_id=int(row["client_id"]),
        meta={
            "external_id": _s(row.get("external_id")),
            "commissioned_on": _date(row.get("commissioned_on")),
            "title_line": _join(title_en, title_zh, sep=" / "),
        },
    )


def commission_docs(commissions: pd.DataFrame) -> list[Doc]:
    return [commission_doc(r) for r in commissions.to_dict("records")]


def client_text(direction: str, commissions: list[Doc]) -> str:
    """A client's research-direction text: profile fields + its latest commission titles."""
    latest = sorted(commissions, key=lambda d: d.meta.get("commissioned_on", ""), reverse=True)
    titles = [d.meta.get("title_line", "") for d in latest[:RECENT_TITLES]]
    return _join(direction, *titles)


def client_docs(clients: pd.DataFrame, commissions: list[Doc]) -> list[Doc]:
    """Research-direction documents (profile fields + recent commission titles)."""
    by_client: dict[int | None, list[Doc]] = {}
    for d in commissions:
        by_client.setdefault(d.client_id, []).append(d)
    docs = []
    for r in clients.to_dict("records"):
        cid = int(r["client_id"])
        direction = _join(
            r.get("industry_field"), r.get("core_technologies"), r.get("core_products")
        )
        docs.append(
            Doc(
                key=cid,
                text=client_text(direction, by_client.get(cid, [])),
                title=_s(r.get("name_zh")) or _s(r.get("name_en")) or _s(r.get("external_id")),
                summary=_join(
                    r.get("industry_field"),
                    r.get("core_technologies"),
                    r.get("core_products"),
                    sep=" | ",
                ),
                client_id=cid,
                meta={
                    "external_id": _s(r.get("external_id")),
                    "kind": _s(r.get("kind")),
                    "direction": direction,
                },
            )
        )
    return docs


def product_docs(products: pd.DataFrame) -> list[Doc]:
    """Catalogue entries (zh + en names and descriptions)."""
    return [
        Doc(
            key=str(r["code"]),
            text=_join(
                r.get("name_en"), r.get("description_en"), r.get("name_zh"), r.get("description_zh")
            ),
            title=_join(r.get("name_en"), r.get("name_zh"), sep=" / "),
            summary=_s(r.get("description_en")),
            meta={"category": _s(r.get("category")), "active": bool(r.get("active", True))},
        )
        for r in products.to_dict("records")
    ]


def case_id(commission_id: int, product_code: str) -> str:
    """An opaque, stable case id (reveals neither the client nor the commission)."""
    digest = hashlib.blake2b(
        f"{commission_id}:{product_code}".encode(), digest_size=6, person=b"recsvc-case"
    )
    return f"case-{digest.hexdigest()}"


def _scrub(text: str, names: list[str]) -> str:
    for name in names:
        if name and len(name) >= 2:
            text = re.sub(re.escape(name), "", text, flags=re.IGNORECASE)
    return " ".join(text.split()).strip(" ;,")


def shared_keywords(
    commissions: pd.DataFrame, min_clients: int = CASE_KEYWORD_MIN_CLIENTS
) -> set[str]:
    """Lowercased keywords used by at least ``min_clients`` different clients."""
    users: dict[str, set[int]] = {}
    for r in commissions[["client_id", "keywords"]].to_dict("records"):
        for kw in _keywords(r.get("keywords")):
            users.setdefault(kw.lower(), set()).add(int(r["client_id"]))
    return {kw for kw, who in users.items() if len(who) >= min_clients}


def case_summary(
    client: dict[str, Any],
    commission: dict[str, Any],
    product: dict[str, Any],
    allowed_keywords: set[str] | None = None,
) -> tuple[str, str]:
    """The anonymised (en, zh) summary of one case.

    Args:
        allowed_keywords: lowercased keywords safe to show (see :func:`shared_keywords`);
            ``None`` allows all.
    """
    kind_zh, kind_en = CASE_KIND_PHRASES.get(_s(client.get("kind")), CASE_KIND_PHRASES["other"])
    names = [_s(client.get(c)) for c in ("name_zh", "name_en", "external_id")]
    keywords = [
        k
        for k in _keywords(commission.get("keywords"))
        if allowed_keywords is None or k.lower() in allowed_keywords
    ]
    industry = _scrub(_s(client.get("industry_field")), names)
    subject = _scrub(_s(commission.get("subject_area")), names)
    # each sentence keeps the keywords (else the subject) written in its own script
    topic_zh = _scrub(
        "；".join(in_script(keywords, cjk=True)[:5] or in_script([subject], cjk=True)), names
    )
    topic_en = _scrub(
        "; ".join(in_script(keywords, cjk=False)[:5] or in_script([subject], cjk=False)), names
    )
    about_en = f" with a novelty-search project on {topic_en}" if topic_en else ""
    after_en = "" if topic_en else " after a similar novelty-search project"
    zh_head = f"在“{topic_zh}”查新项目之后" if topic_zh else "在一项查新项目之后"
    where_en = f" in {field_phrase(industry, 'en')}" if industry else ""
    where_zh = f"{field_phrase(industry, 'zh').removesuffix('领域')}领域的" if industry else ""
    product_en = _s(product.get("name_en")).lower() or str(product.get("code"))
    en = f"{kind_en[0].upper()}{kind_en[1:]}{where_en}{about_en} bought {product_en}{after_en}."
    zh = f"一家{where_zh}{kind_zh}{zh_head}购买了{_s(product.get('name_zh'))}。"
    return en, zh


def case_docs(frames: Frames) -> list[Doc]:
    """Past value-added cases (see the module docstring)."""
    orders = frames.orders
    if "status" in orders.columns:
        orders = orders[orders["status"].astype(str) != "cancelled"]
    comms = frames.commissions
    if not len(orders) or not len(comms):
        return []
    clients = {int(r["client_id"]): r for r in frames.clients.to_dict("records")}
    products = {str(r["code"]): r for r in frames.products.to_dict("records")}
    by_client = {int(c): g.sort_values("commissioned_on") for c, g in comms.groupby("client_id")}
    by_id = {int(r["commission_id"]): r for r in comms.to_dict("records")}
    allowed = shared_keywords(comms)
    docs: dict[str, Doc] = {}
    for o in orders.sort_values("ordered_on").to_dict("records"):
        cid, code, when = int(o["client_id"]), str(o["product_code"]), o["ordered_on"]
        trigger = None
        linked = o.get("commission_id")
        if linked is not None and not pd.isna(linked) and int(linked) in by_id:
            c = by_id[int(linked)]
            if c["commissioned_on"] <= when <= c["commissioned_on"] + CASE_WINDOW:
                trigger = c
        if trigger is None and cid in by_client:
            g = by_client[cid]
            window = g[
                (g["commissioned_on"] <= when) & (g["commissioned_on"] + CASE_WINDOW >= when)
            ]
            if len(window):
                trigger = window.iloc[-1].to_dict()
        if trigger is None or code not in products or cid not in clients:
            continue
        key = case_id(int(trigger["commission_id"]), code)
        if key in docs:
            continue
        en, zh = case_summary(clients[cid], trigger, products[code], allowed)
        docs[key] = Doc(
            key=key,
            text=f"{en}\n{zh}",
            title=_s(products[code].get("name_en")) or code,
            summary=en,
            client_id=cid,
            meta={
                "product_code": code,
                "summary_zh": zh,
                "commission_id": int(trigger["commission_id"]),
                "ordered_on": str(pd.Timestamp(when).date()),
            },
        )
    return list(docs.values())


def build_docs(frames: Frames) -> dict[str, list[Doc]]:
    """All documents of every kind from a store snapshot."""
    commissions = commission_docs(frames.commissions)
    return {
        "commissions": commissions,
        "clients": client_docs(frames.clients, commissions),
        "products": product_docs(frames.products),
        "cases": case_docs(frames),
    }
