-- Health of a child Application, as its parent (the root app of apps) sees it; argocd-cm key
-- resource.customizations.health.argoproj.io_Application. Argo CD removed its own check in 1.8
-- (argoproj/argo-cd#3781) and 3.x has none, so without this a parent's sync wave passes a child
-- the moment the child object is applied. Base: docs/operator-manual/health.md ("Argocd App"),
-- the child's own health and Progressing until it has one. Added: the child's sync operation.
--
-- How the parent's sync uses the answer (gitops-engine pkg/sync/sync_context.go): Healthy lets
-- the wave finish, Degraded fails the parent's sync, anything else keeps the wave waiting.
-- Argo CD runs argocd-cm scripts without Lua's string library: plain comparisons only.

local hs = {}
local status = obj.status or {}
local state = status.operationState

-- A sync of the child is requested or running (Argo CD clears `operation` when it completes,
-- and keeps it through retries). Meanwhile the child's health is that of what ran before the
-- sync, possibly Healthy: moving the parent's next wave on it would outrun the child.
if obj.operation ~= nil or (state ~= nil and (state.phase == "Running" or state.phase == "Terminating")) then
  hs.status = "Progressing"
  hs.message = "Sync in progress"
  if state ~= nil and state.message ~= nil and state.message ~= "" then
    hs.message = "Sync in progress: " .. state.message
  end
  return hs
end

-- The child's last sync failed and gave up (retries exhausted, or terminated) and the child is
-- not in sync since. Its health may still read Progressing or Missing, which would hold the
-- parent's wave open for ever; failing the parent's sync says why instead. Once the child is
-- Synced again (a later sync, or the cluster fixed by hand) the old failure no longer counts.
if state ~= nil and (state.phase == "Failed" or state.phase == "Error")
    and not (status.sync ~= nil and status.sync.status == "Synced") then
  hs.status = "Degraded"
  hs.message = "Last sync failed"
  if state.message ~= nil and state.message ~= "" then
    hs.message = "Last sync failed: " .. state.message
  end
  return hs
end

if status.health ~= nil and status.health.status ~= nil and status.health.status ~= "" then
  hs.status = status.health.status
  hs.message = status.health.message
  return hs
end

hs.status = "Progressing"
hs.message = "Waiting for the Application's first health assessment"
return hs
