// Agent side of the imp API (follows prelude_common.nut in the same chunk).

root.VALIDATE_NONE <- 0;
root.VALIDATE_USING_SYSTEM_CA_CERTS <- 1;

local device_connected = CONFIG.device_connected;
local connect_callback = null;
local disconnect_callback = null;
root.device <- {
    send = function(name, data = null) {
        if (!device_connected) return -1;
        return send_message(name, data);
    },
    on = on_message,
    isconnected = function() { return device_connected; },
    onconnect = function(callback) { connect_callback = callback; },
    ondisconnect = function(callback) { disconnect_callback = callback; },
};
dispatch.device_state <- function(connected) {
    connected = connected ? true : false;  // Python's booleans arrive as integers
    if (connected == device_connected) return;
    device_connected = connected;
    local callback = connected ? connect_callback : disconnect_callback;
    if (callback != null) callback();
};

// Incoming HTTP requests to the agent URL.
local request_handler = null;
local Response = class {
    id = null;
    headers = null;
    sent = false;
    constructor(request_id) {
        id = request_id;
        headers = {};
    }
    function header(name, value) {
        headers[tostr(name).tolower()] <- tostr(value);
    }
    function send(status, body = "") {
        if (sent) throw "response.send(): this response was already sent";
        if (typeof status != "integer" || status < 100 || status > 599) throw "response.send(): the status code must be an integer from 100 to 599";
        sent = true;
        N.respond(id, status, headers, tostr(body));
    }
};
dispatch.http <- function(id, method, path, query_src, headers_src, body) {
    if (request_handler == null) {
        N.respond(id, 404, {["content-type"] = "text/plain; charset=utf-8"}, "no HTTP handler");
        return;
    }
    local request = {
        method = method,
        path = path,
        query = decode(query_src),
        headers = decode(headers_src),
        body = body,
    };
    request_handler(request, Response(id));
};

// Outgoing HTTP requests: the simulator has no internet, so every request fails the way a
// request to an unreachable host does (status code below 100, an explanation in the body).
local Outgoing = class {
    method = null;
    url = null;
    constructor(request_method, request_url) {
        method = request_method;
        url = request_url;
    }
    function sendsync() { return decode(N.outbound(method, tostr(url))); }
    function sendasync(done, streaming = null, timeout = 600) {
        local response = sendsync();
        wakeup(0, function() { done(response); });
        return this;
    }
    function cancel() {}
    function setvalidation(mode) {}
};

root.http <- {
    onrequest = function(callback) { request_handler = callback; },
    agenturl = function() { return CONFIG.agent_url; },
    get = function(url, headers = null) { return Outgoing("GET", url); },
    post = function(url, headers = null, body = "") { return Outgoing("POST", url); },
    put = function(url, headers = null, body = "") { return Outgoing("PUT", url); },
    httpdelete = function(url, headers = null) { return Outgoing("DELETE", url); },
    request = function(method, url, headers = null, body = "") { return Outgoing(tostr(method).toupper(), url); },
    jsonencode = function(value, settings = null) {
        local compact = settings != null && "compact" in settings && settings.compact;
        return checked(N.jsonencode(value, compact ? true : false));
    },
    jsondecode = function(text) { return checked(N.jsondecode(tostr(text))); },
    urlencode = function(table) { return checked(N.urlencode(table)); },
    urldecode = function(text) { return decode(N.urldecode(tostr(text))); },
    base64encode = function(text) { return N.base64encode(tostr(text)); },
    base64decode = function(text) { return checked(N.base64decode(tostr(text))); },
};

server_table.save <- function(table) {
    local problem = N.save(table);
    if (problem != null) throw problem;
    return 0;
};
server_table.load <- function() { return decode(N.load()); };
imp_table.environment <- function() { return ENVIRONMENT_AGENT; };

foreach (name, entry in dispatch) dispatch[name] = entry.bindenv(root);
return dispatch;
