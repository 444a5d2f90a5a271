// The GitHub simulator driven by @octokit/rest. Usage: node github.mjs URL OWNER/REPO TOKEN
import { Octokit } from "@octokit/rest";
const [url, repoFull, token] = process.argv.slice(2);
const [owner, repo] = repoFull.split("/");
const o = new Octokit({ baseUrl: url, auth: token });
const failed = [];
async function step(name, f) {
  try { const r = await f(); console.log("OK  ", name, JSON.stringify(r).slice(0, 100)); return r; }
  catch (e) { failed.push(name); console.log("FAIL", name, e.status, (e.message || "").slice(0, 200)); }
}
await step("repos.get", async () => (await o.repos.get({ owner, repo })).data.full_name);
await step("issues.listForRepo", async () => (await o.issues.listForRepo({ owner, repo, state: "all", per_page: 2 })).data.map(i => i.number));
const all = await step("paginate", async () => (await o.paginate(o.issues.listForRepo, { owner, repo, state: "all", per_page: 2 })).length);
const c = await step("issues.create", async () => (await o.issues.create({ owner, repo, title: "From octokit", body: "b", labels: ["bug"] })).data.number);
await step("issues.update", async () => (await o.issues.update({ owner, repo, issue_number: c, state: "closed", state_reason: "completed" })).data.state);
await step("issues.createComment", async () => (await o.issues.createComment({ owner, repo, issue_number: c, body: "hi" })).data.id);
await step("issues.listComments", async () => (await o.issues.listComments({ owner, repo, issue_number: c })).data.length);
await step("issues.addLabels", async () => (await o.issues.addLabels({ owner, repo, issue_number: c, labels: ["x-y"] })).data.map(l => l.name));
await step("issues.removeLabel", async () => (await o.issues.removeLabel({ owner, repo, issue_number: c, name: "x-y" })).status);
await step("issues.listMilestones", async () => (await o.issues.listMilestones({ owner, repo })).data.length);
await step("issues.createMilestone", async () => (await o.issues.createMilestone({ owner, repo, title: "M9" })).data.number);
await step("rateLimit.get", async () => (await o.rateLimit.get()).data.resources.core.remaining);
await step("search.issuesAndPullRequests", async () => (await o.search.issuesAndPullRequests({ q: `repo:${owner}/${repo} is:issue octokit` })).data.total_count);
await step("sub-issues list", async () => (await o.request("GET /repos/{owner}/{repo}/issues/{issue_number}/sub_issues", { owner, repo, issue_number: c })).data.length);
await step("users.getAuthenticated", async () => (await o.users.getAuthenticated()).data.login);
await step("issues.lock", async () => (await o.issues.lock({ owner, repo, issue_number: c, lock_reason: "resolved" })).status);
if (failed.length) { console.log("failed:", failed.join(", ")); process.exit(1); }
console.log("all calls answered");
