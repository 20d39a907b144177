"""python deploy/space.py --repo USER/nl2sql [--private] [--dry-run]

Create (or reuse) a Docker Space on the Hugging Face hub and upload this folder to it. The Space
builds the Dockerfile; README.md's front matter configures it (sdk: docker, app_port: 7860).
Needs a token with write access (HF_TOKEN or `huggingface-cli login`). --dry-run only lists the
files it would upload.
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IGNORE = [".git/*", ".venv/*", "*/__pycache__/*", "__pycache__/*", "*.pyc", ".pytest_cache/*", "runs/*", "outputs/*",
          ".cache/*", "tests/*", "*.safetensors.tmp*", "training/checkpoints/*"]


def files_to_upload(root: Path = ROOT, ignore: list[str] = IGNORE) -> list[str]:
    out = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not any(fnmatch.fnmatch(rel, pat) for pat in ignore):
            out.append(rel)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Deploy the app to a Hugging Face Docker Space.")
    p.add_argument("--repo", required=True, help="Space id, e.g. your-name/nl2sql")
    p.add_argument("--private", action="store_true")
    p.add_argument("--dry-run", action="store_true", help="list the files that would be uploaded, then stop")
    args = p.parse_args(argv)
    files = files_to_upload()
    if args.dry_run:
        print("\n".join(files))
        print(f"{len(files)} files would be uploaded to spaces/{args.repo}", file=sys.stderr)
        return 0
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(args.repo, repo_type="space", space_sdk="docker", private=args.private, exist_ok=True)
    api.upload_folder(folder_path=str(ROOT), repo_id=args.repo, repo_type="space", ignore_patterns=IGNORE,
                      commit_message="Deploy nl2sql")
    print(f"uploaded {len(files)} files: https://huggingface.co/spaces/{args.repo}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
