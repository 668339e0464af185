-- Health of a CloudNativePG Cluster; argocd-cm key resource.customizations.health.postgresql.cnpg.io_Cluster.
-- Replaces Argo CD's built-in resource_customizations/postgresql.cnpg.io/Cluster/health.lua
-- (argoproj/argo-cd 37ee0097, unchanged since v3.5.1), which calls Degraded the phases the
-- operator passes through on its own: "Applying configuration" (any parameter change),
-- switchover, failover, in-place restarts, online and major upgrades. Argo CD fails a sync as
-- soon as an object of the running wave is Degraded, so a parameter change failed its own sync.
-- Here those phases are Progressing (the wave waits), a healthy phase counts only with every
-- instance ready, and Degraded is kept for phases that need a person.
-- Phase names: api/v1/cluster_types.go of CloudNativePG v1.30.0 (all 22 are listed below).
-- Argo CD runs argocd-cm scripts without Lua's string library: table look-ups only.

local hs = {}

local HEALTHY = "Cluster in healthy state"

-- The operator leaves these by itself.
local progressing = {
  ["Setting up primary"] = true,
  ["Creating a new replica"] = true,
  ["Upgrading cluster"] = true,
  ["Upgrading Postgres major version"] = true,
  -- Rollouts held back by the operator's configured delay; it resumes them itself.
  ["Cluster upgrade delayed"] = true,
  ["Primary instance is being restarted in-place"] = true,
  ["Primary instance is being restarted without a switchover"] = true,
  ["Waiting for the instances to become active"] = true,
  ["Online upgrade in progress"] = true,
  ["Applying configuration"] = true,
  ["Promoting to primary cluster"] = true,
  ["Switchover in progress"] = true,
  ["Failing over"] = true,
}

-- The operator cannot go on without someone fixing something.
local degraded = {
  ["Cluster is unrecoverable and needs manual intervention"] = true,
  ["Unable to create required cluster objects"] = true,
  ["Cluster cannot proceed to reconciliation due to an unknown plugin being required"] = true,
  ["Cluster cannot proceed to reconciliation due to an error while interacting with plugins"] = true,
  ["Cluster has incomplete or invalid image catalog"] = true,
  ["Cluster cannot execute instance online upgrade due to missing architecture binary"] = true,
  ["Invalid cluster definition"] = true,
}

-- A supervised rolling update waits for a person to switch over: paused, not broken (the
-- built-in said Degraded). Argo CD's definition of Suspended; the wave keeps waiting.
local suspended = {
  ["Waiting for user action"] = true,
}

local function hibernation(conditions)
  for _, condition in ipairs(conditions or {}) do
    if condition.type == "cnpg.io/hibernation" then
      return condition
    end
  end
  return nil
end

-- A user's explicit choice, as in the built-in.
if obj.metadata ~= nil and obj.metadata.annotations ~= nil
    and obj.metadata.annotations["cnpg.io/reconciliationLoop"] == "disabled" then
  hs.status = "Suspended"
  hs.message = "Cluster reconciliation is suspended"
  return hs
end

local status = obj.status
if status == nil or status.phase == nil or status.phase == "" then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report the cluster's phase"
  return hs
end

local phase = status.phase
local reason = phase
if status.phaseReason ~= nil and status.phaseReason ~= "" then
  reason = status.phaseReason
end

if degraded[phase] then
  hs.status = "Degraded"
  hs.message = reason
  return hs
end

-- Hibernation: True once every pod is gone; False while it waits for the cluster to be healthy
-- or for its pods to go (the built-in said Degraded then). The condition is removed when the
-- hibernation annotation is.
local hibernating = hibernation(status.conditions)
if hibernating ~= nil then
  if hibernating.status == "True" then
    hs.status = "Suspended"
  else
    hs.status = "Progressing"
  end
  hs.message = hibernating.message
  return hs
end

if suspended[phase] then
  hs.status = "Suspended"
  hs.message = reason
  return hs
end

if phase == HEALTHY then
  -- The phase alone can be stale: right after the instance count changes, or while an
  -- instance is restarting, it still reads healthy. The desired count is the spec's.
  local wanted = status.instances
  if obj.spec ~= nil and obj.spec.instances ~= nil then
    wanted = obj.spec.instances
  end
  local ready = status.readyInstances or 0
  if wanted ~= nil and ready == wanted then
    hs.status = "Healthy"
    hs.message = reason
  else
    hs.status = "Progressing"
    hs.message = ready .. " of " .. (wanted or "?") .. " instances ready"
  end
  return hs
end

if progressing[phase] then
  hs.status = "Progressing"
  hs.message = reason
  return hs
end

-- A phase this script does not know (a newer operator): neither passed nor failed.
hs.status = "Unknown"
hs.message = "Unrecognised phase: " .. phase
if reason ~= phase then
  hs.message = hs.message .. " (" .. reason .. ")"
end
return hs
