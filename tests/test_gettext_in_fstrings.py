"""pybabel does not look inside f-strings (Python 3.11): a gettext call there is never extracted, so its
text silently stays English in every language. Keep such calls outside the f-string."""

from __future__ import annotations

import ast

from bot.config import PROJECT_ROOT

GETTEXT = {"_", "__", "ngettext", "gettext", "lazy_gettext"}


def test_no_gettext_call_inside_an_f_string() -> None:
    found = []
    for folder in ("bot", "handlers"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for fstring in (node for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)):
                for call in (node for node in ast.walk(fstring) if isinstance(node, ast.Call)):
                    if isinstance(call.func, ast.Name) and call.func.id in GETTEXT:
                        found.append(f"{path.relative_to(PROJECT_ROOT)}:{call.lineno}")
    assert found == []
