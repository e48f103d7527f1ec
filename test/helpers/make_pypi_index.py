"""Builds a static Python package index for tests: real wheels (small local
projects, plus any wheel files given), their PEP 658 .metadata files, and the
simple pages in both PEP 503 HTML and PEP 691 JSON.

  python3 make_pypi_index.py OUT FILES_BASE_URL < spec.json

spec.json: {"projects": [{"name", "version", "requires": [...], "requires_python"?, "yanked"?: reason}],
            "wheels": ["/path/to/existing.whl", ...]}
Writes OUT/files/<wheel> and <wheel>.metadata, OUT/simple/index.{html,json} and
OUT/simple/<normalized>/index.{html,json}; file links point at FILES_BASE_URL.
"""
import base64
import hashlib
import html
import json
import os
import re
import sys
import zipfile


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def record_hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(out_dir, project):
    dist = re.sub(r"[-_.]+", "_", project["name"])
    version = project["version"]
    info = f"{dist}-{version}.dist-info"
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {version}"]
    if project.get("requires_python"):
        lines.append(f"Requires-Python: {project['requires_python']}")
    lines += [f"Requires-Dist: {req}" for req in project.get("requires", [])]
    files = {
        f"{dist.lower()}/__init__.py": f"VERSION = {version!r}\n".encode(),
        f"{info}/METADATA": ("\n".join(lines) + "\n").encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: dpm-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{path},{record_hash(data)},{len(data)}\n" for path, data in files.items()) + f"{info}/RECORD,,\n"
    files[f"{info}/RECORD"] = record.encode()
    path = os.path.join(out_dir, f"{dist}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
    return path


def wheel_metadata(path):
    with zipfile.ZipFile(path) as wheel:
        name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
        return wheel.read(name)


def main():
    out, files_base = sys.argv[1], sys.argv[2].rstrip("/") + "/"
    spec = json.load(sys.stdin)
    files_dir = os.path.join(out, "files")
    os.makedirs(files_dir, exist_ok=True)
    wheels = [build_wheel(files_dir, p) for p in spec.get("projects", [])]
    for source in spec.get("wheels", []):
        target = os.path.join(files_dir, os.path.basename(source))
        with open(source, "rb") as src, open(target, "wb") as dst:
            dst.write(src.read())
        wheels.append(target)

    # wheel file name -> the reason it was yanked (PEP 592)
    yanked = {f"{re.sub(r'[-_.]+', '_', p['name'])}-{p['version']}-py3-none-any.whl": p["yanked"] for p in spec.get("projects", []) if p.get("yanked")}
    by_project = {}
    for path in wheels:
        data = open(path, "rb").read()
        metadata = wheel_metadata(path)
        open(path + ".metadata", "wb").write(metadata)
        fields = dict(line.split(": ", 1) for line in metadata.decode().splitlines() if ": " in line and not line.startswith(" "))
        filename = os.path.basename(path)
        by_project.setdefault(normalize(fields["Name"]), []).append({
            "filename": filename,
            "url": files_base + "files/" + filename,
            "hashes": {"sha256": hashlib.sha256(data).hexdigest()},
            "requires-python": fields.get("Requires-Python"),
            "core-metadata": {"sha256": hashlib.sha256(metadata).hexdigest()},
            "size": len(data),
            "upload-time": "2026-01-01T00:00:00.000000Z",
            "version": fields["Version"],
            **({"yanked": yanked[filename]} if filename in yanked else {}),
        })

    simple = os.path.join(out, "simple")
    os.makedirs(simple, exist_ok=True)
    names = sorted(by_project)
    json.dump({"meta": {"api-version": "1.1"}, "projects": [{"name": n} for n in names]}, open(os.path.join(simple, "index.json"), "w"))
    with open(os.path.join(simple, "index.html"), "w") as page:
        page.write("<!DOCTYPE html><html><body>\n" + "".join(f'<a href="{n}/">{n}</a>\n' for n in names) + "</body></html>\n")
    for name, files in by_project.items():
        directory = os.path.join(simple, name)
        os.makedirs(directory, exist_ok=True)
        versions = sorted({f.pop("version") for f in files})
        for f in files:
            if f["requires-python"] is None:
                del f["requires-python"]
        json.dump({"meta": {"api-version": "1.1"}, "name": name, "versions": versions, "files": files}, open(os.path.join(directory, "index.json"), "w"))
        links = []
        for f in files:
            attributes = f'href="{html.escape(f["url"])}#sha256={f["hashes"]["sha256"]}"'
            if "requires-python" in f:
                attributes += f' data-requires-python="{html.escape(f["requires-python"])}"'
            attributes += f' data-dist-info-metadata="sha256={f["core-metadata"]["sha256"]}"'
            if "yanked" in f:
                attributes += f' data-yanked="{html.escape(f["yanked"])}"'
            links.append(f"<a {attributes}>{html.escape(f['filename'])}</a><br/>\n")
        with open(os.path.join(directory, "index.html"), "w") as page:
            page.write(f"<!DOCTYPE html><html><head><title>Links for {name}</title></head><body><h1>Links for {name}</h1>\n" + "".join(links) + "</body></html>\n")


main()
