-- Argo CD health of a Sluice SchemaSubject, from its Ready condition.
-- Argo CD runs scripts from argocd-cm with only the base and table libraries: no string.*, so plain comparisons only.
local hs = {}

local function condition(conditionType)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, candidate in ipairs(obj.status.conditions) do
    if candidate.type == conditionType then
      return candidate
    end
  end
  return nil
end

-- Reasons the controller retries by itself; every other Ready=False reason is a refusal that waits for a fix.
local retrying = { RegistryUnavailable = true }

local ready = condition("Ready")
local generation = obj.metadata.generation
if ready == nil or (obj.status.observedGeneration ~= nil and generation ~= nil and obj.status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "waiting for the Sluice controller to act on the SchemaSubject"
  return hs
end
if ready.status == "True" then
  hs.status = "Healthy"
elseif retrying[ready.reason] then
  hs.status = "Progressing"
else
  hs.status = "Degraded"
end
hs.message = ready.message
return hs
