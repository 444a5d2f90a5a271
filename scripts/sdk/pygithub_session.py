"""The GitHub simulator driven by PyGithub. Usage: pygithub_session.py URL OWNER/REPO TOKEN."""
import sys
FAILED = []
from github import Github, Auth
url, repo_name, token = sys.argv[1], sys.argv[2], sys.argv[3]
g = Github(base_url=url, auth=Auth.Token(token))
def step(name, f):
    try:
        r=f(); print("OK  ", name, (str(r)[:120] if r is not None else "")); return r
    except Exception as e:
        FAILED.append(name); print("FAIL", name, type(e).__name__, str(e)[:300])
repo = step("get_repo", lambda: g.get_repo(repo_name))
step("rate_limit", lambda: g.get_rate_limit().resources.core.remaining if hasattr(g.get_rate_limit(),'resources') else g.get_rate_limit().core.remaining)
step("user", lambda: g.get_user().login)
if repo:
    step("issues", lambda: [i.number for i in repo.get_issues(state="all")][:10])
    i = step("create_issue", lambda: repo.create_issue(title="From PyGithub", body="Body", labels=["bug"]))
    if i:
        step("get_issue", lambda: repo.get_issue(i.number).title)
        step("edit", lambda: i.edit(title="Edited", state="closed"))
        step("state", lambda: repo.get_issue(i.number).state)
        step("comment", lambda: i.create_comment("hi").id)
        step("comments", lambda: [c.body for c in i.get_comments()])
        step("labels", lambda: [l.name for l in repo.get_labels()])
        step("create_label", lambda: repo.create_label("devflow-x", "ff0000").name)
        step("add_to_labels", lambda: i.add_to_labels("devflow-x"))
        step("issue labels", lambda: [l.name for l in repo.get_issue(i.number).labels])
        step("remove_from_labels", lambda: i.remove_from_labels("devflow-x"))
        step("milestones", lambda: [m.title for m in repo.get_milestones()])
        m = step("create_milestone", lambda: repo.create_milestone("M1"))
        if m: step("set milestone", lambda: i.edit(milestone=m))
        step("assignees", lambda: i.edit(assignees=[]))
        step("lock", lambda: i.lock("resolved"))
        step("events", lambda: [e.event for e in i.get_events()][:5])
        step("sub_issues", lambda: [s.number for s in i.get_sub_issues()] if hasattr(i,'get_sub_issues') else 'n/a')
    step("search_issues", lambda: [x.number for x in g.search_issues(f"repo:{repo_name} is:issue")][:5])

if FAILED:
    print("failed:", ", ".join(FAILED)); sys.exit(1)
print("all calls answered")
