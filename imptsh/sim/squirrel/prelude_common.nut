// The imp API shared by device and agent code. Compiled as one chunk together with
// prelude_device.nut or prelude_agent.nut (which follow this text and see its locals).
// Natives arrive as root slots named __imp_<name>; they are moved into N and removed from the
// root table so that application code cannot reach them.

local root = getroottable();
local N = {};
local native_names = [];
foreach (name, value in root) {
    if (typeof name == "string" && name.len() > 6 && name.slice(0, 6) == "__imp_") native_names.push(name);
}
foreach (name in native_names) {
    N[name.slice(6)] <- root[name];
    delete root[name];
}

local compile = compilestring;
local decode = function(src) { return compile("return " + src, "imp_data")(); };
local checked = function(result) {
    local r = decode(result);
    if (!r[0]) throw r[1];
    return r[1];
};
local CONFIG = decode(N.config());
local SOURCE = CONFIG.source;

local tostr = function(value) {
    if (typeof value == "string") return value;
    return "" + value;
};
local log_value = function(kind, value) {
    N.log(kind, tostr(value), typeof value != "string");
};

// Uncaught errors: the message and the application's own frames go to the host, which logs
// them as impCentral does and restarts the code (or calls imp.onunhandledexception's handler).
local stackinfos = getstackinfos;
seterrorhandler(function(error) {
    local frames = [];
    for (local level = 1; ; level++) {
        local info = stackinfos(level);
        if (info == null) break;
        if (info.src == SOURCE) frames.push([info.func, info.line]);
    }
    N.error(tostr(error), frames);
});

// Nothing that reaches outside the simulated imp: no files, processes or environment, and no way
// to replace the error handler above.
foreach (name in ["system", "remove", "rename", "getenv", "file", "stdin", "stdout", "stderr",
                  "dofile", "loadfile", "writeclosuretofile", "seterrorhandler", "setdebughook",
                  "enabledebuginfo"]) {
    if (name in root) delete root[name];
}

// --- timers and the event loop ---
local timers = {};
local timer_seq = 0;
local idle_callback = null;
local unhandled_callback = null;
local wakeup = function(seconds, callback) {
    if (typeof seconds != "integer" && typeof seconds != "float") throw "imp.wakeup() needs a number of seconds";
    if (typeof callback != "function" && typeof callback != "native function") throw "imp.wakeup() needs a callback function";
    timer_seq++;
    timers[timer_seq] <- callback;
    N.wakeup(seconds.tofloat(), timer_seq);
    return timer_seq;
};
local cancelwakeup = function(handle) {
    if (handle in timers) {
        delete timers[handle];
        N.cancel(handle);
    }
};

// --- messages between device and agent ---
local message_handlers = {};
local on_message = function(name, callback) {
    if (typeof name != "string") throw "the message name must be a string";
    if (callback == null) {
        if (name in message_handlers) delete message_handlers[name];
    } else {
        message_handlers[name] <- callback;
    }
};
local send_message = function(name, data) {
    if (typeof name != "string") throw "the message name must be a string";
    local problem = N.send(name, data);
    if (problem != null) throw problem;
    return 0;
};

// --- the standard library as the imp has it ---
local math_table = {};
foreach (name in ["abs", "acos", "asin", "atan", "atan2", "ceil", "cos", "exp", "fabs", "floor",
                  "log", "log10", "pow", "rand", "sin", "sqrt", "srand", "tan", "PI", "RAND_MAX"]) {
    if (name in root) {
        math_table[name] <- root[name];
        delete root[name];
    }
}
root.math <- math_table;
root.time <- function() { return N.time(); };
root.date <- function(timestamp = null) { return decode(N.date(timestamp)); };

local shutdown_callback = null;
local server_table = {
    log = function(message) { log_value("log", message); },
    error = function(message) { log_value("error", message); },
    restart = function() { N.restart(); throw "server.restart"; },
    onshutdown = function(callback) { shutdown_callback = callback; },
};
local imp_table = {
    wakeup = wakeup,
    cancelwakeup = cancelwakeup,
    configparams = CONFIG.configparams,
    onidle = function(callback) {
        idle_callback = callback;
        N.idle(callback != null);
    },
    onunhandledexception = function(callback) {
        unhandled_callback = callback;
        N.unhandled(callback != null);
    },
    getsoftwareversion = function() { return CONFIG.swversion; },
};
root.server <- server_table;
root.imp <- imp_table;
root.print <- function(message) { log_value("log", message); };

root.SHUTDOWN_NEWSQUIRREL <- 1;
root.SHUTDOWN_NEWFIRMWARE <- 2;
root.SHUTDOWN_OTHER <- 3;
root.ENVIRONMENT_CARD <- 0;
root.ENVIRONMENT_MODULE <- 1;
root.ENVIRONMENT_AGENT <- 2;

// Entry points for the host. Each runs one event to completion. They are bound to the root
// table (see the end of each side's prelude), so application callbacks run with the root table
// as `this`, as top-level code does, and none of the names here shadows the application's
// globals. (Calling them through `callback.call(root)` instead would hide the error location:
// errors inside a native call do not reach the error handler.)
local dispatch = {
    timer = function(id) {
        if (id in timers) {
            local callback = timers[id];
            delete timers[id];
            callback();
        }
    },
    message = function(name, data_src) {
        if (name in message_handlers) {
            local handler = message_handlers[name];  // a plain call: `this` stays the root table
            handler(decode(data_src));
        }
    },
    idle = function() {
        local callback = idle_callback;
        idle_callback = null;
        N.idle(false);
        if (callback != null) callback();
    },
    unhandled = function(error) {
        if (unhandled_callback != null) unhandled_callback(error);
    },
};
