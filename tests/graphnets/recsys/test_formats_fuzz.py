"""Fuzz tests of the recommender text formats (LightGCN/UltraGCN ``uid iid ...`` lines, RecBole
``.inter``): any byte string gives a valid result or a ``ValueError``; generated files are read
back exactly (every pair, every token)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from graphnets.recsys import InteractionData, load_lightgcn_split, read_user_item_lines
from graphnets.recsys.recbole import load_recbole, read_inter
from tests.fuzz import fuzz, fuzz_settings, mutated, read_or_value_error, scratch_dir

pytestmark = fuzz


# --- LightGCN text --------------------------------------------------------------------------
@st.composite
def lightgcn_files(draw):
    """``(text, pairs)``: one line per user (maybe repeated users, blank lines, tabs, CRLF)."""
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(0, 2**63 - 1) | st.integers(0, 30),
                st.lists(st.integers(0, 2**63 - 1) | st.integers(0, 50), max_size=6, unique=True),
            ),
            min_size=1,
            max_size=6,
        )
    )
    sep = draw(st.sampled_from([" ", "\t", "  "]))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [sep.join(str(v) for v in [u, *items]) for u, items in rows]
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), "")
    pairs = [(u, i) for u, items in rows for i in items]
    return eol.join(lines) + draw(st.sampled_from(["", eol])), pairs


def _check_lines(data: bytes, expect=None) -> None:
    with scratch_dir() as d:
        f = d / "train.txt"
        f.write_bytes(data)
        out = read_or_value_error(read_user_item_lines, f)
    if out is None:
        assert expect is None
        return
    users, items = out
    assert users.shape == items.shape and users.dtype == items.dtype
    assert users.numel() == 0 or (int(users.min()) >= 0 and int(items.min()) >= 0)
    # every token of every non-blank line is read: pairs = tokens - one uid per line
    tokens = [ln.split() for ln in data.split(b"\n")]
    assert users.numel() == sum(len(t) - 1 for t in tokens if t)
    if expect is not None:
        assert list(zip(users.tolist(), items.tolist())) == expect


# tokens that int() takes but the format does not, or that overflow int64, or are not text
_ODD_TOKENS = [
    "0",
    "7",
    "-1",
    "+3",
    "1_0",
    "\u00b2",
    "\u0663",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999",
    "1e3",
    "0x1",
    "\xff",
    "x",
    "",
]
_SOUP = st.lists(st.lists(st.sampled_from(_ODD_TOKENS), min_size=1, max_size=4).map(" ".join), max_size=4).map(
    lambda lines: "\n".join(lines).encode("utf-8", "surrogateescape")
)


@fuzz_settings()
@given(st.one_of(st.binary(max_size=100), _SOUP))
def test_lightgcn_lines_arbitrary_bytes(data):
    _check_lines(data)


@fuzz_settings()
@given(lightgcn_files())
def test_lightgcn_lines_valid_files(case):
    text, pairs = case
    _check_lines(text.encode(), pairs)


@fuzz_settings()
@given(mutated(lightgcn_files().map(lambda c: c[0].encode())))
def test_lightgcn_lines_mutated(data):
    _check_lines(data)


@fuzz_settings(0.5)
@given(mutated(st.just(b"0 1 2\n1 0\n2 3 1\n")), mutated(st.just(b"0 3\n1 2\n2 0\n")))
def test_lightgcn_split_folder(train, test):
    with scratch_dir() as d:
        (d / "train.txt").write_bytes(train)
        (d / "test.txt").write_bytes(test)
        data = read_or_value_error(load_lightgcn_split, d)
        if data is None:
            data = read_or_value_error(load_lightgcn_split, d, cold_users="drop")
    if data is not None:
        assert isinstance(data, InteractionData) and data.num_train >= 1


# --- RecBole .inter -------------------------------------------------------------------------
_TOKEN = st.text(st.characters(blacklist_characters="\t\n\r", blacklist_categories=("Cs",)), min_size=1, max_size=6)


@st.composite
def inter_files(draw):
    """``(text, users, items)`` of an ``.inter`` file with 2-3 columns in random order."""
    extra = draw(st.booleans())
    cols = ["user_id:token", "item_id:token"] + (["rating:float"] if extra else [])
    order = draw(st.permutations(range(len(cols))))
    rows = draw(st.lists(st.tuples(_TOKEN, _TOKEN, st.floats(0, 5).map(str)), min_size=0, max_size=6))
    lines = ["\t".join(cols[k] for k in order)]
    for u, i, r in rows:
        vals = [u, i, r][: len(cols)]
        lines.append("\t".join(vals[k] for k in order))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return bom + eol.join(lines) + eol, [u for u, _, _ in rows], [i for _, i, _ in rows]


def _check_inter(data: bytes, expect=None) -> None:
    with scratch_dir() as d:
        f = d / "x.inter"
        f.write_bytes(data)
        out = read_or_value_error(read_inter, f)
    if out is None:
        assert expect is None
        return
    users, items = out
    assert len(users) == len(items) and all(users) and all(items)
    assert all(isinstance(t, str) for t in users + items)
    if expect is not None:
        assert (users, items) == (expect[0], expect[1])
    else:  # every non-blank data line became one row
        lines = data.decode("utf-8-sig").split("\n")[1:]
        assert len(users) == sum(1 for ln in lines if ln.rstrip("\r").strip())


@fuzz_settings()
@given(st.one_of(st.binary(max_size=100), st.binary(max_size=60).map(lambda b: b"user_id:token\titem_id:token\n" + b)))
def test_inter_arbitrary_bytes(data):
    _check_inter(data)


@fuzz_settings()
@given(inter_files())
def test_inter_valid_files(case):
    text, users, items = case
    _check_inter(text.encode(), (users, items))


@fuzz_settings()
@given(mutated(inter_files().map(lambda c: c[0].encode())))
def test_inter_mutated(data):
    _check_inter(data)


@fuzz_settings(0.5)
@given(inter_files(), inter_files(), st.sampled_from(["error", "drop"]), st.booleans())
def test_load_recbole_pre_split(train, test, cold_users, drop_duplicates):
    with scratch_dir() as d:
        (d / f"{d.name}.train.inter").write_text(train[0], encoding="utf-8")
        (d / f"{d.name}.test.inter").write_text(test[0], encoding="utf-8")
        data = read_or_value_error(load_recbole, d, cold_users=cold_users, drop_duplicates=drop_duplicates)
    if data is None:
        return
    tr_pairs = set(zip(train[1], train[2]))
    assert data.num_train == len(tr_pairs) >= 1
    assert {
        (data.user_tokens[u], data.item_tokens[i]) for u, i in zip(data.train_users.tolist(), data.train_items.tolist())
    } == tr_pairs
    warm = {u for u, _ in tr_pairs}
    te_pairs = {(u, i) for u, i in zip(test[1], test[2]) if u in warm}
    assert {
        (data.user_tokens[u], data.item_tokens[i]) for u, i in zip(data.test_users.tolist(), data.test_items.tolist())
    } == te_pairs
