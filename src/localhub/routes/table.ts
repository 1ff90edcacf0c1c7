/** Every endpoint the local hub serves, in match order (API routes before `/{repo}/...`). */
import { REPO, REV, route, type Route } from "../router.js";
import { createBranch, deleteBranch, listRefs } from "./branches.js";
import { createCommit } from "./commit.js";
import { listCommits } from "./commits.js";
import { modelInfo } from "./info.js";
import { lfsBatch } from "./lfs-batch.js";
import { completeUpload, uploadObject, uploadPart } from "./lfs-upload.js";
import { preupload } from "./preupload.js";
import { createRepo, deleteRepo, updateSettings } from "./repos.js";
import { rawFile, resolveFile } from "./resolve.js";
import { listTree, pathsInfo } from "./tree.js";
import { validateYaml } from "./validate-yaml.js";
import { whoami } from "./whoami.js";

const MODEL = `/api/models/${REPO}`;
const OID = "([0-9a-f]{64})";
const GET = ["GET", "HEAD"] as const;

export const ROUTES: readonly Route[] = [
  route(GET, "/api/whoami-v2", whoami),
  route(["POST"], "/api/repos/create", createRepo),
  route(["DELETE"], "/api/repos/delete", deleteRepo),
  route(["POST"], "/api/validate-yaml", validateYaml),
  route(GET, MODEL, modelInfo),
  route(GET, `${MODEL}/revision/${REV}`, modelInfo),
  route(GET, `${MODEL}/tree/${REV}(?:/(.*))?`, listTree),
  route(["POST"], `${MODEL}/paths-info/${REV}`, pathsInfo),
  route(GET, `${MODEL}/commits/${REV}`, listCommits),
  route(["POST"], `${MODEL}/preupload/${REV}`, preupload),
  route(["POST"], `${MODEL}/commit/${REV}`, createCommit),
  route(["POST"], `${MODEL}/branch/${REV}`, createBranch),
  route(["DELETE"], `${MODEL}/branch/${REV}`, deleteBranch),
  route(GET, `${MODEL}/refs`, listRefs),
  route(["PUT"], `${MODEL}/settings`, updateSettings),
  route(["POST"], `/([^/]+/[^/]+?)\\.git/info/lfs/objects/batch`, lfsBatch),
  route(["PUT"], `/_lfs/${OID}/(\\d+)`, uploadObject),
  route(["PUT"], `/_lfs/${OID}/(\\d+)/part/(\\d+)`, uploadPart),
  route(["POST"], `/_lfs/${OID}/(\\d+)/complete`, completeUpload),
  route(GET, `/${REPO}/resolve/${REV}/(.+)`, resolveFile),
  route(GET, `/${REPO}/raw/${REV}/(.+)`, rawFile),
];
