-- Health of a cert-manager Certificate; argocd-cm key resource.customizations.health.cert-manager.io_Certificate.
-- Replaces Argo CD's built-in resource_customizations/cert-manager.io/Certificate/health.lua
-- (argoproj/argo-cd 37ee0097, unchanged since v3.5.1), which
--  * says Degraded for Ready=False without an Issuing=True condition. cert-manager's readiness
--    controller writes Ready=False ("Issuing certificate as Secret does not exist") for a new
--    Certificate independently of, and sometimes before, the trigger controller's Issuing=True
--    (argoproj/argo-cd#26097, open): when Argo CD looks then, the first sync of an environment fails.
--  * says Progressing for Issuing=True even while Ready=True: a renewal whose challenge cannot
--    pass (up to the ACME order's lifetime) holds every sync's wave while the certificate in
--    the Secret is still valid (argoproj/argo-cd#18597, open).
-- Here: Ready=True of the current generation is Healthy (renewing or not); a failed issuance
-- (Issuing=False for a reason other than Issued: cert-manager backs off, 1 h and more) is
-- Degraded; anything else on the way to a certificate is Progressing.
-- Condition types and reasons: cert-manager v1.21.1, pkg/controller/certificates/{readiness,
-- trigger,issuing}. Argo CD runs argocd-cm scripts without Lua's string library.

local hs = {}

local function condition(conditions, conditionType)
  for _, c in ipairs(conditions or {}) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local conditions = obj.status and obj.status.conditions
local ready = condition(conditions, "Ready")
local issuing = condition(conditions, "Issuing")

-- cert-manager stamps every condition with the generation it judged; an older one says nothing
-- about the spec Argo CD just applied (new DNS names, another issuer).
local generation = obj.metadata and obj.metadata.generation
if ready ~= nil and generation ~= nil and ready.observedGeneration ~= nil and ready.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for cert-manager to check generation " .. generation
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or "Certificate is ready"
  if issuing ~= nil and issuing.status == "True" then
    hs.message = hs.message .. "; renewing: " .. (issuing.message or issuing.reason or "")
  elseif issuing ~= nil and issuing.status == "False" and issuing.reason ~= "Issued" then
    hs.message = hs.message .. "; last renewal failed: " .. (issuing.message or issuing.reason or "")
  end
  return hs
end

if issuing ~= nil and issuing.status == "True" then
  hs.status = "Progressing"
  hs.message = issuing.message
  return hs
end

if issuing ~= nil and issuing.status == "False" and issuing.reason ~= "Issued" then
  hs.status = "Degraded"
  hs.message = issuing.message
  return hs
end

if ready ~= nil and ready.status == "False" then
  hs.status = "Progressing"
  hs.message = ready.message
  return hs
end

hs.status = "Progressing"
hs.message = "Waiting for certificate"
return hs
