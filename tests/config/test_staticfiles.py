"""The production static build: collectstatic with the manifest storage, as an operator runs it before the first start.

Without a complete manifest every page that names a static file answers 500, and ``check --deploy`` does not see it;
so the build itself is the test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.stack import ROOT, prod_environment


def test_collectstatic_with_the_production_storage_builds_a_manifest(tmp_path: Path) -> None:
    env = prod_environment(tmp_path, database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    env["STATIC_ROOT"] = str(tmp_path / "static")
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    # Our own files and the admin's (which the product serves) are hashed; viewflow's unused vendored assets are not
    # collected at all.
    assert {"css/app.css", "js/notifications.js", "img/favicon.svg", "admin/css/base.css"} <= manifest.keys()
    assert not [path for path in manifest if path.startswith("viewflow/")]
    assert (tmp_path / "static" / manifest["css/app.css"]).is_file()
