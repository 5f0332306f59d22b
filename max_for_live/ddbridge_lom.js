// ddbridge for Max for Live: the script of the device's [js ddbridge_lom.js].
//
// Node for Max cannot reach the Live Object Model; this Max JavaScript object can, through
// LiveAPI. It performs one operation per `request <json>` message from the node.script and
// answers with `lom_result <json>` on its outlet (wired back into the node.script):
//   in:  {"seq": n, "op": "resolve" | "get" | "set" | "getcount" | "info" | "call",
//         "path": "live_set tracks 0 devices 1", "name": "...", "value": ..., "args": [...]}
//   out: {"seq": n, "ok": true, "value": ...}  or  {"seq": n, "ok": false, "error": "..."}
// Max's classic JavaScript engine runs this file, so it keeps to ES5.

autowatch = 0;
inlets = 1;
outlets = 1;

function atoms(value) {
    if (value === undefined || value === null) {
        return [];
    }
    if (Object.prototype.toString.call(value) === "[object Array]") {
        return value.slice(0);
    }
    return [value];
}

function perform(req) {
    var api = new LiveAPI(req.path);
    if (!api.id || Number(api.id) === 0) {
        return { ok: false, error: "no Live object at '" + req.path + "'" };
    }
    switch (req.op) {
        case "resolve":
            return { ok: true, value: { id: Number(api.id), path: String(api.unquotedpath), type: String(api.type) } };
        case "get":
            return { ok: true, value: atoms(api.get(req.name)) };
        case "set":
            api.set(req.name, req.value);
            return { ok: true, value: atoms(api.get(req.name)) };
        case "getcount":
            return { ok: true, value: Number(api.getcount(req.name)) };
        case "info":
            return { ok: true, value: String(api.info) };
        case "call":
            return { ok: true, value: atoms(api.call.apply(api, [req.name].concat(req.args || []))) };
        default:
            return { ok: false, error: "unknown LOM operation '" + req.op + "'" };
    }
}

function request(text) {
    var req = null;
    var result;
    try {
        req = JSON.parse(text);
        result = perform(req);
    } catch (e) {
        result = { ok: false, error: String(e && e.message ? e.message : e) };
    }
    result.seq = req && typeof req.seq === "number" ? req.seq : -1;
    outlet(0, "lom_result", JSON.stringify(result));
}
