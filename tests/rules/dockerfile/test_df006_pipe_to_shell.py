import pytest

from ci_security.manifests.dockerfile import parse_dockerfile
from ci_security.rules.dockerfile.df006_pipe_to_shell import Df006PipeToShell


def messages(*rows: str) -> list[str]:
    df = parse_dockerfile("FROM debian:12\n" + "\n".join(rows) + "\n", "Dockerfile")
    return [h.message for h in Df006PipeToShell().check(df)]


@pytest.mark.parametrize(
    ("run", "message"),
    [
        ("RUN curl -fsSL https://x/install.sh | sh", "RUN pipes curl output into sh"),
        ("RUN curl -fsSL https://x | sudo -E bash -", "RUN pipes curl output into bash"),
        ("RUN curl -fsSL https://x | bash -s -- --version 2", "RUN pipes curl output into bash"),
        ("RUN wget -qO- https://x | tee /tmp/i.sh | sh", "RUN pipes wget output into sh"),
        ("RUN curl -fsSL https://x.gz | gunzip | bash", "RUN pipes curl output into bash"),
        ("RUN busybox wget -O- https://x | busybox sh", "RUN pipes wget output into sh"),
        ("RUN curl https://x | python3 -", "RUN pipes curl output into python3"),
        ("RUN curl https://x | perl", "RUN pipes curl output into perl"),
        ("RUN curl https://x | source /dev/stdin", "RUN pipes curl output into source"),
        ('RUN sh -c "$(curl -fsSL https://x)"', "RUN runs the output of curl as a command"),
        ('RUN bash -c "`wget -O- https://x`"', "RUN runs the output of wget as a command"),
        ('RUN eval "$(curl -fsSL https://x)"', "RUN runs the output of curl as a command"),
        ("RUN bash <(curl -fsSL https://x)", "RUN runs bash on a process substitution of curl"),
        (". <(curl -fsSL https://x)", None),
        ("RUN source <(wget -qO- https://x)", "RUN runs source on a process substitution of wget"),
        ('RUN bash <<< "$(curl -fsSL https://x)"', "RUN feeds curl output to bash as a here-string"),
        ('RUN ["/bin/sh", "-c", "curl -fsSL https://x | sh"]', "RUN pipes curl output into sh"),
        ("ONBUILD RUN curl -fsSL https://x | sh", "RUN pipes curl output into sh"),
        ("RUN if true; then curl https://x | sh; fi", "RUN pipes curl output into sh"),
    ],
)
def test_fires(run, message):
    if message is None:  # `. <(…)` alone is not a Dockerfile instruction: wrap it
        run, message = f"RUN {run}", "RUN runs . on a process substitution of curl"
    assert messages(run) == [message]


@pytest.mark.parametrize(
    "run",
    [
        "RUN curl -fsSLo /tmp/i.sh https://x && echo 'abc  /tmp/i.sh' | sha256sum -c - && sh /tmp/i.sh",
        "RUN curl -fsSL https://x | tar -xz -C /opt",
        "RUN curl -fsSL https://x | python3 -c 'import json,sys; print(json.load(sys.stdin))'",
        "RUN curl -fsSL https://x | bash -c 'cat > /tmp/f'",
        "RUN curl -fsSL https://x | sh /tmp/local.sh",
        "RUN curl -fsSL https://x | node -e 'process.stdin.pipe(process.stdout)'",
        "RUN echo 'curl https://x | sh'",
        "RUN cat install.sh | sh",
        'RUN sh -c "echo $(curl -fsSL https://x/version)"',
        "RUN bash <(cat local.sh)",
    ],
)
def test_does_not_fire(run):
    assert messages(run) == []


def test_shell_heredoc_script():
    assert messages("RUN <<EOF", "set -e", "curl -fsSL https://x | bash", "EOF") == [
        "RUN pipes curl output into bash"
    ]


def test_python_heredoc_is_not_shell():
    assert messages("RUN python3 <<EOF", "import os", 'os.system("curl https://x | sh")', "EOF") == []


def test_powershell_stage_is_skipped():
    assert messages('SHELL ["pwsh", "-Command"]', "RUN curl https://x | sh") == []


def test_several_problems_in_one_run_are_one_hit():
    assert messages("RUN curl https://a | sh && bash <(curl https://b)") == [
        "RUN pipes curl output into sh; runs bash on a process substitution of curl"
    ]
