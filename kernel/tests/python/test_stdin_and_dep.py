"""Protocol pieces jupyter_kernel_test does not cover: input_request (kelp::input / kelp::password
over the stdin channel) and evcxr's `:dep` (a local path crate, so no network is needed)."""

import textwrap

import pytest
from conftest import kernel, run_cell


@pytest.fixture(scope="module")
def kc(tmp_path_factory):
    with kernel(tmp_path_factory.mktemp("kelp-home")) as client:
        yield client


def run(kc, code, answers=None, allow_stdin=False, timeout=600):
    """Execute `code`; answer each input_request from `answers` (a list, consumed in order).
    Returns (reply content, stdout text, every iopub message, the input requests seen)."""
    ran = run_cell(kc, code, timeout, answers=answers, allow_stdin=allow_stdin)
    return ran.reply, ran.stdout, ran.messages, ran.asked


def test_input_request_round_trip(kc):
    reply, out, _, asked = run(
        kc, 'let who = kelp::input("Your name: ");\nprintln!("hello {who}!");', ["Ada"], allow_stdin=True
    )
    assert reply["status"] == "ok", reply
    assert len(asked) == 1
    assert asked[0]["password"] is False
    assert asked[0]["prompt"].startswith("Your name")
    assert "hello Ada!" in out


def test_password_is_flagged_and_never_echoed(kc):
    reply, out, seen, asked = run(
        kc, 'let pw = kelp::password("Keystore passphrase");\nprintln!("{} chars", pw.len());', ["s3cret-pw"], True
    )
    assert reply["status"] == "ok", reply
    assert [a["password"] for a in asked] == [True]
    assert "9 chars" in out
    assert all("s3cret-pw" not in str(m["content"]) for m in seen)


def test_input_without_stdin_is_empty_and_asks_nothing(kc):
    reply, out, _, asked = run(kc, 'println!("[{}]", kelp::input("anyone?"));', allow_stdin=False)
    assert reply["status"] == "ok", reply
    assert asked == []
    assert "[]" in out


def test_dep_on_a_local_crate(kc, tmp_path):
    crate = tmp_path / "kelp_dep_probe"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text(
        textwrap.dedent(
            """\
            [package]
            name = "kelp_dep_probe"
            version = "0.1.0"
            edition = "2021"
            """
        )
    )
    (crate / "src" / "lib.rs").write_text("pub fn answer(x: u32) -> u32 { x * 6 }\n")
    reply, _, seen, _ = run(kc, f':dep kelp_dep_probe = {{ path = "{crate}" }}\nkelp_dep_probe::answer(7)')
    assert reply["status"] == "ok", reply
    results = [m["content"]["data"]["text/plain"] for m in seen if m["msg_type"] == "execute_result"]
    assert results == ["42"]


def test_bad_dep_is_an_error_and_the_kernel_goes_on(kc, tmp_path):
    missing = tmp_path / "no_such_crate"
    reply, _, _, _ = run(kc, f':dep no_such_crate = {{ path = "{missing}" }}')
    assert reply["status"] == "error"
    reply, _, seen, _ = run(kc, "1 + 1")
    assert reply["status"] == "ok"
    assert [m["content"]["data"]["text/plain"] for m in seen if m["msg_type"] == "execute_result"] == ["2"]
