// Command argocd-health runs an Argo CD health.lua against one object the way Argo CD does, printing {"status","message"}.
//
// Usage: argocd-health health.lua < object.json
//
// It follows argo-cd's util/lua/lua.go (ExecuteHealthLua) for scripts configured in argocd-cm: gopher-lua with the
// standard libraries skipped except package, base and table (so a script that calls string.* fails here as it fails
// in Argo CD), the object as the global `obj`, a one-second limit, and a status outside Argo CD's health codes
// reported as Unknown. The safe os library Argo CD adds is left out: Sluice's scripts do not read the clock.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
)

type health struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

var healthCodes = map[string]bool{"Unknown": true, "Progressing": true, "Suspended": true, "Healthy": true, "Degraded": true, "Missing": true}

func main() {
	if len(os.Args) != 2 {
		fail("usage: argocd-health health.lua < object.json")
	}
	script, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail(err.Error())
	}
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err.Error())
	}
	var object map[string]interface{}
	if err := json.Unmarshal(input, &object); err != nil {
		fail("the object on stdin is not a JSON object: " + err.Error())
	}
	result, err := run(string(script), object)
	if err != nil {
		fail(err.Error())
	}
	out, _ := json.Marshal(result)
	fmt.Println(string(out))
}

func run(script string, object map[string]interface{}) (health, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return health{}, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", decode(l, object))
	if err := l.DoString(script); err != nil {
		return health{}, err
	}
	returned, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return health{}, fmt.Errorf("expect table output from Lua script, not %s", l.Get(-1).Type().String())
	}
	result := health{Status: stringField(returned, "status"), Message: stringField(returned, "message")}
	if !healthCodes[result.Status] {
		return health{Status: "Unknown", Message: "Lua returned an invalid health status"}, nil
	}
	return result, nil
}

func stringField(table *lua.LTable, name string) string {
	if value, ok := table.RawGetString(name).(lua.LString); ok {
		return string(value)
	}
	return ""
}

// decode is argo-cd's decodeValue: JSON values as Lua values, arrays as 1-based tables.
func decode(l *lua.LState, value interface{}) lua.LValue {
	switch converted := value.(type) {
	case bool:
		return lua.LBool(converted)
	case float64:
		return lua.LNumber(converted)
	case string:
		return lua.LString(converted)
	case []interface{}:
		array := l.CreateTable(len(converted), 0)
		for _, item := range converted {
			array.Append(decode(l, item))
		}
		return array
	case map[string]interface{}:
		table := l.CreateTable(0, len(converted))
		for key, item := range converted {
			table.RawSetH(lua.LString(key), decode(l, item))
		}
		return table
	}
	return lua.LNil
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "argocd-health: "+message)
	os.Exit(1)
}
