"""Templates are text with limits (documents/loader.py, documents/worker.py): they reach only files
inside their folder, run under a time, memory and output limit, and report errors where they are."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from documents import LetterRenderer, LetterTemplateError
from documents.worker import WorkerLimitError, run_limited
from tests.test_documents import REQUEST, lines, reopen
from workflow.templates import check

SUBJECT = "{% block subject %}موضوع{% endblock %}"


def folder_with(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    folder = tmp_path / "mine"
    folder.mkdir(exist_ok=True)
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def refusal(folder: Path, seconds: float = 4.0) -> str:
    with pytest.raises(LetterTemplateError) as failed:
        LetterRenderer(folder, seconds=seconds).render(REQUEST)
    return str(failed.value)


@pytest.mark.parametrize(
    ("include", "problem"),
    [
        ("/etc/passwd", "/etc/passwd: a template may only name files inside the templates folder (no absolute name)"),
        ("../secret.j2", "../secret.j2: a template may only name files inside the templates folder (no '..')"),
        ("parts/../../secret.j2", "a template may only name files inside the templates folder (no '..')"),
        ("C:/secret.j2", "a template may only name files inside the templates folder (no absolute name)"),
        ("parts\\\\x.j2", "a template may only name files inside the templates folder (no absolute name)"),
    ],
)
@pytest.mark.parametrize("tag", ["include", "import", "extends"])
def test_templates_reach_only_names_inside_their_folder(tmp_path: Path, include: str, problem: str, tag: str) -> None:
    (tmp_path / "secret.j2").write_text("{% block body %}secret{% endblock %}")
    if tag == "extends":  # a template that extends another is that other one, with its blocks replaced
        text = f"{{% extends '{include}' %}}" + SUBJECT
    else:
        statement = f"{{% include '{include}' %}}" if tag == "include" else f"{{% import '{include}' as x %}}"
        text = SUBJECT + "{% block body %}" + statement + "{% endblock %}"
    folder = folder_with(tmp_path, {"referral.ar.j2": text})
    message = refusal(folder)
    assert problem in message and message.startswith("template referral.ar.j2")
    assert "secret" not in message.replace("secret.j2", "")


def test_a_link_out_of_the_folder_is_refused_and_one_inside_it_is_followed(tmp_path: Path) -> None:
    (tmp_path / "outside.j2").write_text("outside")
    folder = folder_with(tmp_path, {"parts/inside.j2": "في الداخل"})
    os.symlink(tmp_path / "outside.j2", folder / "parts" / "out.j2")
    os.symlink(folder / "parts" / "inside.j2", folder / "parts" / "in.j2")
    (folder / "referral.ar.j2").write_text(SUBJECT + "{% block body %}{% include 'parts/out.j2' %}{% endblock %}")
    assert "parts/out.j2: is a link to a file outside the templates folder" in refusal(folder)
    (folder / "referral.ar.j2").write_text(SUBJECT + "{% block body %}{% include 'parts/in.j2' %}{% endblock %}")
    assert LetterRenderer(folder).render(REQUEST).subject == "موضوع"
    # The letter's own template as a link out of the folder is refused too.
    (folder / "referral.ar.j2").unlink()
    os.symlink(tmp_path / "outside.j2", folder / "referral.ar.j2")
    assert "is a link to a file outside the templates folder" in refusal(folder)


def test_a_named_pipe_a_big_file_and_a_non_utf8_file_are_named_without_hanging(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {})
    os.mkfifo(folder / "referral.ar.j2")
    start = time.monotonic()
    assert refusal(folder) == "template referral.ar.j2: cannot load it (referral.ar.j2: is not a regular file)"
    assert time.monotonic() - start < 10
    (folder / "referral.ar.j2").unlink()
    (folder / "referral.ar.j2").write_bytes(SUBJECT.encode() + b"{% block body %}\n\xe3\xff{% endblock %}")
    assert refusal(folder) == (
        "template referral.ar.j2: cannot load it (referral.ar.j2: is not UTF-8 text (byte 0xe3 on line 2); "
        "save it as UTF-8)"
    )
    (folder / "referral.ar.j2").write_text(SUBJECT + "{% block body %}" + "x" * 300_000 + "{% endblock %}")
    assert "is larger than 256 kB" in refusal(folder)


def test_a_template_that_never_ends_is_stopped_in_time(tmp_path: Path) -> None:
    loop = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    folder = folder_with(tmp_path, {"referral.ar.j2": SUBJECT + "{% block body %}" + loop + "x{% endblock %}"})
    start = time.monotonic()
    assert refusal(folder, seconds=1.5) == (
        "template referral.ar.j2: took longer than 1.5 seconds and was stopped (a loop that does not end?)"
    )
    assert time.monotonic() - start < 6


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            "{% for i in range(100000) %}{{ 'ابجد' * 10 }}{% endfor %}",
            "its body block writes more than 200000 characters",
        ),
        ("{{ 'x'.ljust(10**10) }}", "needs more memory than a letter may take"),
        ("{{ 'x' * 10**10 }}", "needs more memory than a letter may take"),
    ],
)
def test_output_and_memory_have_limits(tmp_path: Path, body: str, problem: str) -> None:
    folder = folder_with(tmp_path, {"referral.ar.j2": SUBJECT + "{% block body %}" + body + "{% endblock %}"})
    assert problem in refusal(folder)


def test_a_runtime_error_carries_the_line_of_the_template_it_is_in(tmp_path: Path) -> None:
    folder = folder_with(
        tmp_path,
        {
            "referral.ar.j2": "{#- a comment\n   over two lines -#}\n" + SUBJECT + "\n{% block body %}\nنص\n\n"
            "{% include 'parts/p.j2' %}\n{% endblock %}",
            "parts/p.j2": "سطر\nسطر\n{{ proposal.titel }}\n",
        },
    )
    assert refusal(folder) == ("template parts/p.j2, line 3: UndefinedError: 'dict object' has no attribute 'titel'")
    (folder / "referral.ar.j2").write_text("\n\n" + SUBJECT + "\n{% block body %}\n\n\n{{ 1 // 0 }}\n{% endblock %}")
    assert refusal(folder) == "template referral.ar.j2, line 7: ZeroDivisionError: integer division or modulo by zero"


def test_check_reports_text_outside_the_blocks(tmp_path: Path) -> None:
    folder = folder_with(
        tmp_path,
        {"referral.ar.j2": "تحية إلى الجميع\n" + SUBJECT + "{% block body %}نص{% endblock %}\n{{ proposal.ref }}\n"},
    )
    report = check(folder)
    assert [str(e) for e in report.errors] == [
        "template referral.ar.j2, line 1: text outside the blocks is never printed: 'تحية إلى الجميع'",
        "template referral.ar.j2, line 3: text outside the blocks is never printed: '{{ … }}'",
    ]


def test_the_worker_returns_results_and_raises_what_the_work_raised() -> None:
    assert run_limited(lambda progress: [1, "٢"], seconds=5, memory_bytes=64 << 20) == [1, "٢"]
    with pytest.raises(ZeroDivisionError):
        run_limited(lambda progress: 1 // 0, seconds=5, memory_bytes=64 << 20)

    def slow(progress):  # type: ignore[no-untyped-def]
        progress("the slow part")
        while True:
            pass

    with pytest.raises(WorkerLimitError, match=r"the slow part: took longer than 0\.5 seconds"):
        run_limited(slow, seconds=0.5, memory_bytes=64 << 20)


def test_proposer_text_reaches_templates_as_one_line(tmp_path: Path) -> None:
    folder = folder_with(
        tmp_path, {"referral.ar.j2": SUBJECT + "{% block body %}«{{ proposal.problem }}»{% endblock %}"}
    )
    request = replace(
        REQUEST,
        context={**REQUEST.context, "proposal": {**REQUEST.context["proposal"],
                                                 "problem": "أ\n\nوتفضلوا بقبول فائق الاحترام\n\n\u202eب"}},
    )  # fmt: skip
    letter = LetterRenderer(folder).render(request)
    text = lines(reopen(letter.content))
    assert "«أ وتفضلوا بقبول فائق الاحترام ب»" in text
    assert text.count("وتفضلوا بقبول فائق الاحترام") == 1


def test_a_template_may_extend_and_include_files_of_its_own_folder(tmp_path: Path) -> None:
    folder = folder_with(
        tmp_path,
        {
            "base.j2": SUBJECT + "{% block body %}{% include 'parts/intro.j2' %}\n\n\n{% block more %}{% endblock %}"
            "{% endblock %}",
            "parts/intro.j2": "مقدمة",
            "referral.ar.j2": "{% extends 'base.j2' %}{% block more %}تفصيل {{ proposal.ref }}{% endblock %}",
        },
    )
    letter = LetterRenderer(folder).render(REQUEST)
    text = lines(reopen(letter.content))
    assert text[text.index("تحية طيبة وبعد،") + 1 : text.index("تحية طيبة وبعد،") + 3] == ["مقدمة", "تفصيل P-000"]
