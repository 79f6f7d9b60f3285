import json

from ci_security.models import (
    Decision,
    ImageTarget,
    LayerInfo,
    LayerRef,
    OSInfo,
    Package,
    Platform,
    ScanResult,
)
from ci_security.report.base import RenderContext
from ci_security.report.json import JsonReporter


def test_json_shape_and_key_order():
    layer = LayerInfo(
        index=0, digest="sha256:d", diff_id="sha256:i", media_type="m", size=3, created_by="ADD x /"
    )
    target = ImageTarget(
        reference="r",
        transport="oci",
        digest="sha256:m",
        image_id="sha256:c",
        platform=Platform(os="linux", architecture="arm64", variant="v8"),
        layers=(layer,),
        repo_tags=("a:1",),
        repo_digests=("a@sha256:m",),
        os=OSInfo(family="alpine", version="3.19.1"),
    )
    pkg = Package(
        name="musl",
        version="1.2.4-r2",
        type="apk",
        purl="pkg:apk/alpine/musl@1.2.4-r2",
        source_name="musl",
        source_version="1.2.4-r2",
        arch="x86_64",
        path="/lib/apk/db/installed",
        layer=LayerRef(index=0, digest="sha256:d", diff_id="sha256:i"),
        found_by="os/apk",
    )
    text = JsonReporter().render(
        ScanResult(target=target, packages=(pkg,)), Decision(passed=True), RenderContext()
    )
    doc = json.loads(text)
    assert list(doc) == ["schema_version", "tool", "target", "packages", "policy", "warnings"]
    assert doc["target"]["platform"] == "linux/arm64/v8"
    assert doc["target"]["layers"][0]["created_by"] == "ADD x /"
    assert doc["packages"][0]["layer"] == {"index": 0, "digest": "sha256:d", "diff_id": "sha256:i"}
    assert doc["packages"][0]["found_by"] == "os/apk"
    assert text.endswith("\n")
