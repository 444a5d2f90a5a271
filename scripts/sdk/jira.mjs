// The Jira simulator driven by jira.js (v3 and v2 clients). Usage: node jira.mjs URL
import { Version3Client, Version2Client } from "jira.js";
const [host] = process.argv.slice(2);
const auth = { basic: { email: "dev@devflow.test", apiToken: "ATATT-simulator" } };
const j = new Version3Client({ host, authentication: auth });
const failed = [];
async function step(name, f) {
  try { const r = await f(); console.log("OK  ", name, JSON.stringify(r ?? null).slice(0, 110)); return r; }
  catch (e) { failed.push(name); console.log("FAIL", name, e.status ?? e.code, (e.message || "").slice(0, 200)); }
}
await step("myself", async () => (await j.myself.getCurrentUser()).displayName);
await step("serverInfo", async () => (await j.serverInfo.getServerInfo()).deploymentType);
await step("projects.search", async () => (await j.projects.searchProjects()).values.map(p => p.key));
await step("search jql", async () => (await j.issueSearch.searchForIssuesUsingJqlEnhancedSearch({ jql: "project = DEV", fields: ["summary"], maxResults: 2 })).issues.map(i => i.key));
const created = await step("issues.createIssue", async () => (await j.issues.createIssue({ fields: { project: { key: "DEV" }, summary: "From jira.js", issuetype: { name: "Task" }, description: { type: "doc", version: 1, content: [{ type: "paragraph", content: [{ type: "text", text: "hi" }] }] } } })).key);
await step("issues.getIssue", async () => (await j.issues.getIssue({ issueIdOrKey: created })).fields.summary);
await step("issues.editIssue", async () => (await j.issues.editIssue({ issueIdOrKey: created, fields: { summary: "Edited by jira.js" } })));
await step("transitions", async () => (await j.issues.getTransitions({ issueIdOrKey: created })).transitions.map(t => t.name));
await step("doTransition", async () => await j.issues.doTransition({ issueIdOrKey: created, transition: { id: (await j.issues.getTransitions({ issueIdOrKey: created })).transitions[1].id } }));
await step("worklog add", async () => (await j.issueWorklogs.addWorklog({ issueIdOrKey: created, timeSpentSeconds: 3600, started: "2026-12-01T09:00:00.000+0000" })).id);
await step("worklogs get", async () => (await j.issueWorklogs.getIssueWorklog({ issueIdOrKey: created })).worklogs.length);
await step("issue picker", async () => (await j.issueSearch.getIssuePickerResource({ query: "jira" })).sections.length);
await step("comment add", async () => (await j.issueComments.addComment({ issueIdOrKey: created, comment: { type: "doc", version: 1, content: [{ type: "paragraph", content: [{ type: "text", text: "c" }] }] } })).id);
await step("properties set", async () => await j.issueProperties.setIssueProperty({ issueIdOrKey: created, propertyKey: "devflow", propertyValue: { a: 1 } }));
await step("properties get", async () => (await j.issueProperties.getIssueProperty({ issueIdOrKey: created, propertyKey: "devflow" })).value);
await step("fields", async () => (await j.issueFields.getFields()).length);
await step("deleteIssue", async () => await j.issues.deleteIssue({ issueIdOrKey: created }));
const j2 = new Version2Client({ host, authentication: auth });
await step("v2 create", async () => (await j2.issues.createIssue({ fields: { project: { key: "DEV" }, summary: "v2", issuetype: { name: "Task" }, description: "plain text" } })).key);
if (failed.length) { console.log("failed:", failed.join(", ")); process.exit(1); }
console.log("all calls answered");
