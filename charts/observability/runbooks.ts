/**
 * Where an alert's runbook is read: `runbooks/<AlertName>.md` of this repository, at the revision
 * Argo CD syncs, on the repository's web pages.
 */

/**
 * The web address of the repository's files at `revision`, from the URL Argo CD clones it from
 * (`https://host/org/repo.git` or `git@host:org/repo.git`): `https://host/org/repo/blob/<revision>`,
 * the layout of GitHub, Gitea and Forgejo, which GitLab redirects to its `/-/blob/` pages.
 */
export function repositoryFilesUrl(repoURL: string, revision: string): string {
  const scp = /^git@([^:]+):(.+)$/.exec(repoURL);
  const ssh = /^ssh:\/\/git@([^/:]+)(?::\d+)?\/(.+)$/.exec(repoURL);
  const [host, path] = scp ? [scp[1], scp[2]] : ssh ? [ssh[1], ssh[2]] : [new URL(repoURL).host, new URL(repoURL).pathname.slice(1)];
  return `https://${host}/${path.replace(/\.git$/, '')}/blob/${revision}`;
}

/** The address of an alert's runbook page. */
export function runbookUrl(filesUrl: string, alert: string): string {
  return `${filesUrl}/runbooks/${alert}.md`;
}
