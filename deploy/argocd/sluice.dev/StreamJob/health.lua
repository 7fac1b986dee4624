-- Argo CD health of a Sluice StreamJob, from status.phase and the Ready, Upgrade, Progressing and RuntimeHealthy conditions.
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

local function messageOf(found, otherwise)
  if found ~= nil and found.message ~= nil and found.message ~= "" then
    return found.message
  end
  return otherwise
end

-- A condition written for an older spec says nothing about the one applied now.
local function current(found)
  if found == nil then
    return nil
  end
  if found.observedGeneration ~= nil and obj.metadata.generation ~= nil and found.observedGeneration < obj.metadata.generation then
    return nil
  end
  return found
end

-- Why the spec applied now is not the one running: refused, its upgrade's savepoint failed, or rolled back.
local upgradeFailures = { InvalidSpec = true, SavepointFailed = true, RolledBack = true, RollingBack = true }

local status = obj.status
if status == nil or status.phase == nil then
  hs.status = "Progressing"
  hs.message = "waiting for the Sluice controller to act on the StreamJob"
  return hs
end
if status.observedGeneration ~= nil and obj.metadata.generation ~= nil and status.observedGeneration < obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "waiting for the Sluice controller to act on generation " .. obj.metadata.generation
  return hs
end

local ready = condition("Ready")
local upgrade = current(condition("Upgrade"))
local runtime = condition("RuntimeHealthy")

if status.phase == "Failed" then
  hs.status = "Degraded"
  hs.message = messageOf(ready, "the StreamJob failed")
  return hs
end
if status.phase == "RollingBack" or (upgrade ~= nil and upgrade.status == "False" and upgradeFailures[upgrade.reason]) then
  hs.status = "Degraded"
  hs.message = messageOf(upgrade, "the upgrade failed")
  return hs
end
if status.phase == "Suspended" then
  hs.status = "Suspended"
  hs.message = messageOf(ready, "suspended")
  return hs
end
if runtime ~= nil and runtime.status == "False" then
  hs.status = "Degraded"
  hs.message = messageOf(runtime, "a runtime pod is failing")
  return hs
end
if status.phase == "Deploying" or status.phase == "Upgrading" then
  local progressing = condition("Progressing")
  hs.status = "Progressing"
  if status.phase == "Upgrading" and progressing ~= nil and progressing.status == "True" then
    hs.message = messageOf(progressing, "upgrading")
  else
    hs.message = messageOf(ready, "deploying")
  end
  return hs
end
if status.phase == "Running" and ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = messageOf(ready, "running")
  return hs
end
hs.status = "Progressing"
hs.message = messageOf(ready, "waiting for the runtime pods to be ready")
return hs
