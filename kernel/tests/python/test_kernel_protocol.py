"""jupyter_kernel_test against the installed "Rust (kelp)" kernelspec, every attribute set."""

import unittest

import jupyter_kernel_test as jkt


class KelpKernelTests(jkt.KernelTests):
    kernel_name = "kelp"
    language_name = "rust"
    file_extension = ".rs"

    code_hello_world = 'println!("hello, world");'
    code_stderr = 'eprintln!("some error");'

    completion_samples = [
        {"text": "%ipf", "matches": {"%ipfs"}},
        {"text": "%lsm", "matches": {"%lsmagic"}},
        {"text": "%%fi", "matches": {"%%file"}},
        {"text": "let kelp_total_count = 1;\nkelp_total_c", "matches": {"kelp_total_count"}},
        {"text": "std::collections::HashM", "matches": {"HashMap"}},
    ]

    complete_code_samples = ["1 + 1", "fn f() {}", "%lsmagic", "let s = \"}\";", "%%file x.txt\n{{{"]
    incomplete_code_samples = ["fn f() {", "let s = \"abc", "vec![1,", "/* open"]
    invalid_code_samples = ["fn f() }", "let x = (1];"]

    code_page_something = "%lsmagic?"

    code_generate_error = 'panic!("kelp test error")'

    code_execute_result = [
        {"code": "6*7", "result": "42"},
        {"code": "%env KELP_JKT=ok\n%env KELP_JKT", "result": "ok"},
    ]

    code_display_data = [
        {"code": 'kelp::display_html("<b>kelp</b>");', "mime": "text/html"},
        {"code": "%lsmagic\n%env KELP_JKT=1", "mime": "application/json"},
    ]

    code_history_pattern = "6*7"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "%env"

    code_clear_output = "kelp::clear_output(false);"


if __name__ == "__main__":
    unittest.main()
