/** Every route the local GitHub answers, most specific patterns first. */
import type { Route } from "../router.js";
import { appRoutes } from "./app.js";
import { commentRoutes } from "./comments.js";
import { dispatchRoutes } from "./dispatches.js";
import { gitObjectRoutes } from "./git-objects.js";
import { gitRefRoutes } from "./git-refs.js";
import { pullRoutes } from "./pulls.js";
import { repoRoutes } from "./repos.js";
import { userRoutes } from "./user.js";

export const ROUTES: readonly Route[] = [
  ...gitRefRoutes,
  ...gitObjectRoutes,
  ...pullRoutes,
  ...commentRoutes,
  ...dispatchRoutes,
  ...appRoutes,
  ...repoRoutes,
  ...userRoutes,
];
