"""Drives a local hub with Python's huggingface_hub client (not part of this repo).

Run by test/localhub/python-client.test.ts with HF_ENDPOINT, HF_TOKEN, HF_HOME and REPO set.
Prints one "PASS name detail" or "FAIL name detail" line per check; exits 1 if any failed.
hf_hub_download is not used: on Debian 12 its FileLock(mode=...) needs a newer filelock than the
distribution packages. The client's URL builder, metadata reader and HTTP session make the same
requests.
"""
import os
import sys
import warnings

from huggingface_hub import CommitOperationAdd, HfApi, get_hf_file_metadata, hf_hub_url
from huggingface_hub.utils import build_hf_headers, get_session

ENDPOINT = os.environ["HF_ENDPOINT"]
TOKEN = os.environ["HF_TOKEN"]
REPO = os.environ["REPO"]
api = HfApi(endpoint=ENDPOINT, token=TOKEN)
results = []


def check(name, ok, detail=""):
    results.append(bool(ok))
    print("PASS" if ok else "FAIL", name, str(detail).replace("\n", " | "), flush=True)


def commit_count():
    return len(api.list_repo_commits(REPO))


def download(path):
    url = hf_hub_url(REPO, path, endpoint=ENDPOINT)
    return get_session().get(url, headers=build_hf_headers(token=TOKEN)).content


url = api.create_repo(REPO)
check("create_repo", str(url).endswith("/" + REPO), url)
url = api.create_repo(REPO, exist_ok=True)
check("create_repo(exist_ok=True) on an existing repo", str(url).endswith("/" + REPO), url)

card = "---\nlicense: apache-2.0\ntags: [merge]\nbase_model: [a/b, c/d]\n---\n# Model\n"
info = api.upload_file(path_or_fileobj=card.encode(), path_in_repo="README.md", repo_id=REPO)
check("a commit with a README.md (validate-yaml)", info.oid, info.oid)
try:
    api.upload_file(path_or_fileobj=b"\n---\nmodel-index: foo\n---\nbad\n", path_in_repo="README.md", repo_id=REPO)
    check("bad front matter is refused", False)
except ValueError as error:
    check("bad front matter is refused", "Invalid metadata in README.md" in str(error), error)

small = bytes([0]) + bytes(range(256)) * 11  # 2,817 bytes: one LFS PUT
large = bytes([0]) + bytes((i * 7) % 251 for i in range(9000))  # over the test's multipart threshold
api.create_commit(
    repo_id=REPO,
    operations=[
        CommitOperationAdd(path_in_repo="model.safetensors", path_or_fileobj=small),
        CommitOperationAdd(path_in_repo="big/model-00001.safetensors", path_or_fileobj=large),
        CommitOperationAdd(path_in_repo="notes.txt", path_or_fileobj=b"hello\n"),
    ],
    commit_message="weights",
)
check("LFS upload (single and multipart) round trip", download("model.safetensors") == small and download("big/model-00001.safetensors") == large)

before = commit_count()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    api.upload_file(path_or_fileobj=small, path_in_repo="model.safetensors", repo_id=REPO)
    api.upload_file(path_or_fileobj=b"hello\n", path_in_repo="notes.txt", repo_id=REPO)
check("re-uploading unchanged files makes no commit", commit_count() == before, f"{before} -> {commit_count()}")

meta = get_hf_file_metadata(hf_hub_url(REPO, "model.safetensors", endpoint=ENDPOINT), token=TOKEN)
head = api.repo_info(REPO).sha
check("file metadata (size, etag, commit)", meta.size == len(small) and meta.commit_hash == head and meta.etag, meta.etag)

infos = api.get_paths_info(REPO, ["notes.txt", "notes.txt", "big", "missing.txt"])
check("paths-info", sorted(i.path for i in infos) == ["big", "notes.txt"], [i.path for i in infos])

api.create_branch(REPO, branch="dev")
refs = api.list_repo_refs(REPO)
check("create_branch / list_repo_refs", sorted(b.name for b in refs.branches) == ["dev", "main"], [b.name for b in refs.branches])

api.delete_file("notes.txt", repo_id=REPO)
files = sorted(api.list_repo_files(REPO))
expected = [".gitattributes", "README.md", "big/model-00001.safetensors", "model.safetensors"]
check("delete_file / list_repo_files", files == expected, files)

sys.exit(0 if all(results) else 1)
