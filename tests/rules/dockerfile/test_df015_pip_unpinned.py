import pytest

from ci_security.manifests.dockerfile import parse_dockerfile
from ci_security.rules.dockerfile.df015_pip_unpinned import Df015PipUnpinned


def messages(run: str) -> list[str]:
    df = parse_dockerfile(f"FROM python:3.12\n{run}\n", "Dockerfile")
    return [h.message for h in Df015PipUnpinned().check(df)]


@pytest.mark.parametrize(
    ("run", "unpinned"),
    [
        ("RUN pip install flask", "flask"),
        ("RUN pip3 install --no-cache-dir -U pip", "pip"),
        ("RUN python3.12 -m pip install --user 'requests[socks]'", "requests[socks]"),
        ("RUN uv pip install --system httpx", "httpx"),
        ("RUN pip install -r requirements.txt gunicorn", "gunicorn"),
        ("RUN pip install git+https://github.com/a/b.git", "git+https://github.com/a/b.git"),
        ("RUN pip install --index-url https://pypi.example.com/simple flask==3.0 jinja2", "jinja2"),
    ],
)
def test_unpinned(run, unpinned):
    assert messages(run) == [f"RUN pip install of unpinned {unpinned}"]


@pytest.mark.parametrize(
    "run",
    [
        "RUN pip install flask==3.0.3 'django>=5,<6' numpy~=1.26",
        "RUN pip install -r requirements.txt",
        "RUN pip install --requirement=requirements.txt -e .",
        "RUN pip install .",
        "RUN pip install ./wheels/app-1.0-py3-none-any.whl /tmp/pkg.tar.gz",
        "RUN pip install 'pkg @ https://files.example.com/pkg-1.0.tar.gz'",
        "RUN pip install git+https://github.com/a/b.git@v1.2.0",
        "RUN pip install git+ssh://git@github.com/a/b.git@0123abc",
        "RUN pip install -c constraints.txt flask",
        "RUN PIP_CONSTRAINT=/c.txt pip install flask",
        "RUN pip install $PACKAGES",
        "RUN pip download flask",
        "RUN pip --version",
        "RUN python3 -c 'import pip'",
    ],
)
def test_pinned_or_not_an_install(run):
    assert messages(run) == []
