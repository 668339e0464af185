-- Health of a Gateway API Gateway; argocd-cm key resource.customizations.health.gateway.networking.k8s.io_Gateway.
-- Replaces Argo CD's built-in resource_customizations/gateway.networking.k8s.io/Gateway/health.lua
-- (argoproj/argo-cd 37ee0097, unchanged since v3.5.1), which calls any listener with
-- ResolvedRefs=False Degraded. An HTTPS listener whose certificate Secret cert-manager has not
-- written yet is exactly that (reason InvalidCertificateRef; Envoy Gateway v1.9.0
-- internal/gatewayapi/validate.go: "Secret <ns>/<name> does not exist"), and the certificate is
-- issued through this same Gateway's HTTP listener: the first sync of every new environment
-- failed. Here that listener is Progressing; every other failed condition stays Degraded,
-- and a Degraded listener wins over one still waiting. Also new: conditions of an older
-- generation than the spec Argo CD applied (a listener added) count as Progressing.
-- Argo CD runs argocd-cm scripts without Lua's string library: plain comparisons only.

local hs = {}

local function falseCondition(conditions, conditionType)
  for _, c in ipairs(conditions or {}) do
    if c.type == conditionType and c.status == "False" then
      return c
    end
  end
  return nil
end

local function notTrueCondition(conditions, conditionType)
  for _, c in ipairs(conditions or {}) do
    if c.type == conditionType and c.status ~= "True" then
      return c
    end
  end
  return nil
end

local function messageOf(c, fallback)
  if c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return fallback
end

local status = obj.status
if status == nil or (status.conditions == nil and (status.listeners == nil or #status.listeners == 0)) then
  hs.status = "Progressing"
  hs.message = "Waiting for Gateway status"
  return hs
end

local generation = obj.metadata and obj.metadata.generation
if generation ~= nil then
  for _, c in ipairs(status.conditions or {}) do
    if c.observedGeneration ~= nil and c.observedGeneration < generation then
      hs.status = "Progressing"
      hs.message = "Waiting for the controller to observe generation " .. generation
      return hs
    end
  end
end

local failed = falseCondition(status.conditions, "ResolvedRefs") or falseCondition(status.conditions, "Accepted")
if failed ~= nil then
  hs.status = "Degraded"
  hs.message = messageOf(failed, "Failed condition: " .. failed.type)
  return hs
end

-- Listeners: the first real failure, else the first still on its way.
local waiting = nil
for _, listener in ipairs(status.listeners or {}) do
  local name = listener.name or "?"
  local refs = falseCondition(listener.conditions, "ResolvedRefs")
  local accepted = falseCondition(listener.conditions, "Accepted")
  if accepted ~= nil then
    hs.status = "Degraded"
    hs.message = "Listener " .. name .. ": " .. messageOf(accepted, "not accepted")
    return hs
  end
  if refs ~= nil and refs.reason ~= "InvalidCertificateRef" then
    hs.status = "Degraded"
    hs.message = "Listener " .. name .. ": " .. messageOf(refs, "references not resolved")
    return hs
  end
  if waiting == nil then
    if refs ~= nil then
      waiting = "Listener " .. name .. ": waiting for its certificate: " .. messageOf(refs, "invalid certificate reference")
    else
      local programmed = notTrueCondition(listener.conditions, "Programmed")
      if programmed ~= nil then
        waiting = "Listener " .. name .. ": " .. messageOf(programmed, "still being programmed")
      end
    end
  end
end

local programmed = notTrueCondition(status.conditions, "Programmed")
if programmed ~= nil then
  hs.status = "Progressing"
  hs.message = messageOf(programmed, "Gateway is still being programmed")
  return hs
end

if waiting ~= nil then
  hs.status = "Progressing"
  hs.message = waiting
  return hs
end

hs.status = "Healthy"
hs.message = "Gateway is healthy"
return hs
