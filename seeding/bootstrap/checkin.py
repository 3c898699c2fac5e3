"""Commit a seed-code zip on top of a Git repository's branch and push it, once.

Runs in the seed check-in CodeBuild project (standard image, Python >= 3.9, standard library only):

    python3 checkin.py --repo-url URL --branch main --seed-zip seed.zip --seed-id modelbuild-0123abcd.zip \
        --seed-sha256 <the zip's full SHA-256>

What it does:
- checks the seed zip's SHA-256 against --seed-sha256 (the hash the template pins and the custom resource
  checked before starting this build), so a seed swapped in the shared bucket since is never pushed;
- clones the repository through URL (the connection's git-http proxy; credentials come from git's credential
  helper, which the buildspec configures);
- checks out the branch, or creates it from the remote's default branch, or (empty repository) as the
  first commit;
- unpacks the seed over the work tree in one commit: files the seed also has take the seed's version, other
  files stay, history keeps everything;
- the commit carries the trailer `Seed-Code: <seed id>`; when the branch's history already has it, nothing
  is done;
- pushes without force. A rejected push leaves the remote as it was.

Exit codes: 0 done (pushed, or nothing to do); 2 bad arguments or seed zip; 3 the repository cannot be cloned
(URL, connection, credentials); 4 the push was rejected; 1 any other git failure.
The commit's author is "SageMaker Projects <sagemaker-projects@noreply.local>" unless SEED_CODE_AUTHOR_NAME /
SEED_CODE_AUTHOR_EMAIL say otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from collections.abc import Sequence

TRAILER = "Seed-Code"
DEFAULT_AUTHOR_NAME = "SageMaker Projects"
DEFAULT_AUTHOR_EMAIL = "sagemaker-projects@noreply.local"

EXIT_OK = 0
EXIT_GIT = 1
EXIT_USAGE = 2
EXIT_CLONE = 3
EXIT_REJECTED = 4


class CheckinError(Exception):
    """A failure with a message for the build log and the exit code to end with."""

    def __init__(self, message: str, code: int = EXIT_GIT) -> None:
        super().__init__(message)
        self.code = code


def say(message: str) -> None:
    print(f"[checkin] {message}", flush=True)


def redact(url: str) -> str:
    """The URL without any user:password part, fit for a build log."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


class Git:
    """Runs git in one work tree with the commit identity set and prompts disabled."""

    def __init__(self, cwd: Path, author_name: str, author_email: str, timeout: float) -> None:
        self.cwd = cwd
        self.timeout = timeout
        self.env = dict(os.environ)
        self.env.update(
            {
                "GIT_TERMINAL_PROMPT": "0",
                "LC_ALL": "C",
                "GIT_AUTHOR_NAME": author_name,
                "GIT_AUTHOR_EMAIL": author_email,
                "GIT_COMMITTER_NAME": author_name,
                "GIT_COMMITTER_EMAIL": author_email,
            }
        )

    def run(
        self, args: Sequence[str], check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess:
        command = ["git", "-c", "commit.gpgsign=false", "--literal-pathspecs", *args]
        try:
            proc = subprocess.run(
                command,
                cwd=str(self.cwd),
                env=self.env,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise CheckinError(f"git {args[0]} did not finish within {self.timeout:.0f} s") from exc
        if check and proc.returncode != 0:
            raise CheckinError(
                f"git {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stderr.strip()}"
            )
        return proc

    def out(self, args: Sequence[str]) -> str:
        return self.run(args).stdout.strip()


def check_branch_name(branch: str) -> None:
    proc = subprocess.run(
        ["git", "check-ref-format", "--branch", branch], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0 or branch.startswith("-"):
        raise CheckinError(
            f"--branch {branch!r} is not a valid Git branch name; use a name such as 'main'", EXIT_USAGE
        )


def read_seed(seed_zip: Path) -> zipfile.ZipFile:
    if not seed_zip.is_file():
        raise CheckinError(f"--seed-zip {seed_zip} does not exist; copy the seed zip there first", EXIT_USAGE)
    try:
        archive = zipfile.ZipFile(seed_zip)
    except zipfile.BadZipFile as exc:
        message = f"--seed-zip {seed_zip} is not a zip file ({exc}); check the seed's S3 URI"
        raise CheckinError(message, EXIT_USAGE) from exc
    if not any(not info.is_dir() for info in archive.infolist()):
        raise CheckinError(
            f"--seed-zip {seed_zip} holds no files; nothing to seed the repository with", EXIT_USAGE
        )
    return archive


def check_seed_hash(seed_zip: Path, expected: str) -> None:
    digest = hashlib.sha256()
    with seed_zip.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != expected.strip().lower():
        raise CheckinError(
            f"--seed-zip {seed_zip} has SHA-256 {digest.hexdigest()}, but the template expects "
            f"{expected.strip().lower()}: the shared seed asset changed after it was checked. Nothing was "
            "pushed. Run `sm-mlops register` to repair the assets, then retry.",
            EXIT_USAGE,
        )


def seed_paths(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The zip's file entries, each checked to stay inside the work tree and outside .git."""
    files = []
    for info in archive.infolist():
        name = PurePosixPath(info.filename)
        if name.is_absolute() or ".." in name.parts or "\\" in info.filename:
            raise CheckinError(f"seed zip entry {info.filename!r} points outside the repository", EXIT_USAGE)
        if name.parts and name.parts[0] == ".git":
            raise CheckinError(f"seed zip entry {info.filename!r} would write into .git", EXIT_USAGE)
        if info.is_dir():
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            raise CheckinError(
                f"seed zip entry {info.filename!r} is a symbolic link; seeds hold regular files only",
                EXIT_USAGE,
            )
        files.append(info)
    return files


def unpack(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo], work: Path) -> list[str]:
    """Write the seed's files over the work tree (the seed wins where both have a path); return the paths."""
    written = []
    for info in entries:
        target = work.joinpath(*PurePosixPath(info.filename).parts)
        for parent in reversed(target.relative_to(work).parents):
            folder = work / parent
            if folder != work and (folder.is_file() or folder.is_symlink()):
                folder.unlink()  # a file of the repository stands where the seed has a folder
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)  # a folder of the repository stands where the seed has a file
        target.write_bytes(archive.read(info))
        mode = (info.external_attr >> 16) & 0o777
        target.chmod(0o755 if mode & 0o111 else 0o644)
        written.append(info.filename)
    return written


def seeded_commits(git: Git, ref: str) -> dict[str, str]:
    """Seed ids named by a `Seed-Code:` trailer in the history of ref, mapped to the commit carrying them."""
    out = git.run(["log", "--format=%H%x1f%B%x1e", ref]).stdout
    found: dict[str, str] = {}
    pattern = re.compile(rf"^{TRAILER}:\s*(\S+)\s*$", re.MULTILINE)
    for record in out.split("\x1e"):
        if "\x1f" not in record:
            continue
        sha, message = record.strip().split("\x1f", 1)
        for seed_id in pattern.findall(message):
            found.setdefault(seed_id, sha)
    return found


def remote_branches(git: Git) -> list[str]:
    out = git.out(["for-each-ref", "--format=%(refname)", "refs/remotes/origin/"])
    names = [line[len("refs/remotes/origin/") :] for line in out.splitlines()]
    return [name for name in names if name != "HEAD"]


def rejection_reason(stderr: str) -> str:
    """git's own words for a refused push: the `remote:` lines and the `! [...]` line."""
    lines = [line.strip() for line in stderr.splitlines()]
    keep = [
        line for line in lines if line.startswith(("remote:", "!", "error:", "hint: Updates were rejected"))
    ]
    return "\n  ".join(keep or lines or ["(git gave no reason)"])


def checkin(
    repo_url: str,
    branch: str,
    seed_zip: Path,
    seed_id: str,
    work_root: Path,
    author_name: str = DEFAULT_AUTHOR_NAME,
    author_email: str = DEFAULT_AUTHOR_EMAIL,
    timeout: float = 600.0,
    seed_sha256: str | None = None,
) -> str:
    """Seed one branch; returns what happened in one line."""
    if not repo_url.strip():
        raise CheckinError("--repo-url is empty; pass the repository's https clone URL", EXIT_USAGE)
    check_branch_name(branch)
    if not seed_id or any(c.isspace() for c in seed_id):
        raise CheckinError(f"--seed-id {seed_id!r} must be a non-empty name without spaces", EXIT_USAGE)
    if seed_sha256 is not None:
        if not seed_zip.is_file():
            raise CheckinError(
                f"--seed-zip {seed_zip} does not exist; copy the seed zip there first", EXIT_USAGE
            )
        check_seed_hash(seed_zip, seed_sha256)
    archive = read_seed(seed_zip)
    entries = seed_paths(archive)
    shown = redact(repo_url)
    work = work_root / "repository"

    say(f"cloning {shown}")
    clone = Git(work_root, author_name, author_email, timeout).run(
        ["clone", "--quiet", "--no-checkout", "--origin", "origin", repo_url, str(work)], check=False
    )
    if clone.returncode != 0:
        raise CheckinError(
            f"cannot clone {shown}:\n  {clone.stderr.strip()}\n"
            "Check the repository URL and full name, that the connection is AVAILABLE, and that the build's "
            "role may use it.",
            EXIT_CLONE,
        )
    git = Git(work, author_name, author_email, timeout)
    branches = remote_branches(git)
    remote_ref = f"refs/remotes/origin/{branch}"
    if branch in branches:
        say(f"branch {branch} exists; seeding on top of {git.out(['rev-parse', '--short', remote_ref])}")
        git.run(["checkout", "--quiet", "--no-track", "-B", branch, remote_ref])
        base: str | None = remote_ref
    elif branches:
        default = git.run(["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"], check=False).stdout.strip()
        base = default or f"refs/remotes/origin/{branches[0]}"
        say(f"branch {branch} does not exist; creating it from {base[len('refs/remotes/') :]}")
        git.run(["checkout", "--quiet", "--no-track", "-b", branch, base])
    else:
        say(f"the repository is empty; {branch} starts with the seed")
        git.run(["symbolic-ref", "HEAD", f"refs/heads/{branch}"])
        base = None

    if base is not None:
        seeded = seeded_commits(git, base)
        if seed_id in seeded:
            if base == remote_ref:
                where = seeded[seed_id][:12]
                return f"branch {branch} already has seed {seed_id} (commit {where}); nothing to do"
            say(f"{base[len('refs/remotes/') :]} already has seed {seed_id}; only the branch is created")
            push(git, repo_url, branch)
            return f"created branch {branch} at {seeded[seed_id][:12]}, which already has seed {seed_id}"

    written = unpack(archive, entries, work)
    for start in range(0, len(written), 200):
        git.run(["add", "--force", "--", *written[start : start + 200]])
    if base is not None and git.run(["diff", "--cached", "--quiet"], check=False).returncode == 0:
        return f"branch {branch} already holds exactly the files of seed {seed_id}; nothing to commit"
    message = (
        f"Add seed code {seed_id}\n\n"
        f"Sample code for a SageMaker MLOps project, checked in by the project's seed check-in build.\n\n"
        f"{TRAILER}: {seed_id}\n"
    )
    git.run(["commit", "--quiet", "--no-verify", "--file", "-"], stdin=message)
    sha = git.out(["rev-parse", "HEAD"])
    say(f"committed {len(written)} seed files as {sha[:12]}")
    push(git, repo_url, branch)
    return f"pushed seed {seed_id} to {branch} of {shown} as {sha[:12]}"


def push(git: Git, repo_url: str, branch: str) -> None:
    shown = redact(repo_url)
    say(f"pushing {branch} to {shown}")
    proc = git.run(["push", "--porcelain", "origin", f"HEAD:refs/heads/{branch}"], check=False)
    if proc.returncode != 0:
        raise CheckinError(
            f"the push of branch {branch} to {shown} was rejected; the remote is unchanged.\n"
            f"  {rejection_reason(proc.stderr + proc.stdout)}\n"
            "If the branch moved while seeding, run the build again; if a rule protects the branch "
            "(pre-receive hook, branch protection), allow the push or choose another branch.",
            EXIT_REJECTED,
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Commit a seed-code zip on top of a Git branch and push it once."
    )
    parser.add_argument("--repo-url", required=True, help="https clone URL of the target repository")
    parser.add_argument("--branch", required=True, help="branch to seed (created when missing)")
    parser.add_argument("--seed-zip", required=True, type=Path, help="the seed code zip")
    parser.add_argument("--seed-id", required=True, help="name of the seed, written as the commit trailer")
    parser.add_argument("--seed-sha256", help="the seed zip's expected SHA-256; a mismatch pushes nothing")
    parser.add_argument("--work-dir", type=Path, help="where to clone (default: a temporary folder)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds each git command may take")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    author_name = os.environ.get("SEED_CODE_AUTHOR_NAME") or DEFAULT_AUTHOR_NAME
    author_email = os.environ.get("SEED_CODE_AUTHOR_EMAIL") or DEFAULT_AUTHOR_EMAIL
    work_root = Path(tempfile.mkdtemp(prefix="checkin-", dir=args.work_dir))
    try:
        result = checkin(
            args.repo_url,
            args.branch,
            args.seed_zip,
            args.seed_id,
            work_root,
            author_name=author_name,
            author_email=author_email,
            timeout=args.timeout,
            seed_sha256=args.seed_sha256,
        )
    except CheckinError as exc:
        print(f"[checkin] ERROR: {exc}", file=sys.stderr, flush=True)
        return exc.code
    finally:
        shutil.rmtree(work_root, ignore_errors=True)
    say(result)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
