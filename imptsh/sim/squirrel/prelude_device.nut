// Device side of the imp API (follows prelude_common.nut in the same chunk).

local pin_modes = ["DIGITAL_IN", "DIGITAL_IN_PULLUP", "DIGITAL_IN_PULLDOWN", "DIGITAL_IN_WAKEUP",
    "DIGITAL_OUT", "DIGITAL_OUT_OD", "DIGITAL_OUT_OD_PULLUP", "ANALOG_IN", "ANALOG_OUT", "PWM_OUT",
    "PWM_OUT_STEPS", "PULSE_COUNTER", "FREQUENCY_COUNTER"];
foreach (index, name in pin_modes) root[name] <- index + 1;
foreach (index, name in ["WAKEREASON_POWER_ON", "WAKEREASON_TIMER", "WAKEREASON_SW_RESET",
    "WAKEREASON_PIN", "WAKEREASON_NEW_SQUIRREL", "WAKEREASON_SQUIRREL_ERROR",
    "WAKEREASON_NEW_FIRMWARE", "WAKEREASON_SNOOZE", "WAKEREASON_HW_RESET", "WAKEREASON_BLINKUP",
    "WAKEREASON_SW_RESTART"]) root[name] <- index;
foreach (index, name in ["NOT_CONNECTED", "NO_WIFI", "NO_IP_ADDRESS", "NOT_RESOLVED",
    "NO_SERVER", "SERVER_CONNECTED"]) root[name] <- index;
root.SUSPEND_ON_ERROR <- 0;
root.RETURN_ON_ERROR <- 1;
root.WAIT_TIL_SENT <- 0;
root.WAIT_FOR_ACK <- 1;
root.NO_CTSRTS <- 0;
root.PARITY_NONE <- 0;
root.PARITY_EVEN <- 1;
root.PARITY_ODD <- 2;
root.CLOCK_IDLE_HIGH <- 1;
root.CLOCK_IDLE_LOW <- 0;
root.MSB_FIRST <- 0;
root.LSB_FIRST <- 1;
// server.factoryblinkup() flags (a bitfield): an active-high LED, the faster 142 Hz BlinkUp.
root.BLINKUP_ACTIVEHIGH <- 1;
root.BLINKUP_FAST <- 2;

// Pins and peripherals are harmless stand-ins: every method takes any arguments and answers
// a neutral value (a pin reads 0, a UART has no data, an I2C write succeeds).
local neutral = {
    pin = {read = 0},
    uart = {read = -1, readstring = "", write = 0},
    i2c = {read = null, write = 0, readerror = 0},
    spi = {readstring = "", writeread = ""},
};
local Peripheral = class {
    kind = null;
    constructor(kind_name) { kind = kind_name; }
    function _get(method) {
        local answers = neutral[kind];
        local answer = method in answers ? answers[method] : null;
        return function(...) { return answer; };
    }
    function _tostring() { return "(" + kind + " stub)"; }
};
local peripherals = {};
local hardware_table = {
    getdeviceid = function() { return CONFIG.device_id; },
    millis = function() { return N.millis(); },
    micros = function() { return N.micros(); },
    wakereason = function() { return CONFIG.wakereason; },
    voltage = function() { return 3.3; },
    lightlevel = function() { return 32768; },
};
hardware_table.setdelegate({
    _get = function(name) {
        if (name in peripherals) return peripherals[name];
        foreach (kind in ["pin", "uart", "i2c", "spi"]) {
            if (name.len() > kind.len() && name.slice(0, kind.len()) == kind) {
                peripherals[name] <- Peripheral(kind);
                return peripherals[name];
            }
        }
        throw null;
    }
});
root.hardware <- hardware_table;
if (CONFIG.nv != null) root.nv <- CONFIG.nv;  // kept across server.sleepfor()

// Factory-only calls: application firmware throws, factory firmware reports to the platform.
local factory_callbacks = {};
local factory_call = function(call_name, event, data, callback) {
    if (!CONFIG.factory) throw call_name + " is only available in factory firmware (this device runs " + CONFIG.dg_type + " code)";
    local id = N.factory(event, data);
    if (callback != null) factory_callbacks[id] <- callback;
};
server_table.bless <- function(result, callback = null) {
    factory_call("server.bless()", "bless", {result = result ? true : false}, callback);
};
server_table.factoryblinkup <- function(ssid, password, pin, flags, callback = null) {
    factory_call("server.factoryblinkup()", "blinkup", {ssid = ssid, flags = flags}, null);
};
imp_table.clearconfiguration <- function(flags = 0) {
    factory_call("imp.clearconfiguration()", "clearconfiguration", {flags = flags}, null);
};
dispatch.factory <- function(id, result) {
    if (id in factory_callbacks) {
        local callback = factory_callbacks[id];
        delete factory_callbacks[id];
        callback(result ? true : false);  // Python's booleans arrive as integers
    }
};

imp_table.sleep <- function(seconds) { N.sleep(seconds.tofloat()); };
imp_table.getmacaddress <- function() { return CONFIG.mac; };
imp_table.environment <- function() { return ENVIRONMENT_CARD; };
imp_table.rssi <- function() { return -55; };
imp_table.getssid <- function() { return "simulated"; };
imp_table.getbssid <- function() { return "0c2a69000000"; };
imp_table.getmemoryfree <- function() { return 81920; };
foreach (name in ["setpowersave", "enableblinkup", "setwificonfiguration", "setsendbuffersize",
                  "setrescuepin", "setcountry", "setstaticnetworkconfiguration"]) {
    imp_table[name] <- function(...) { return null; };
}
imp_table.deepsleepfor <- function(seconds) { N.sleepfor(seconds.tofloat()); throw "server.sleepfor"; };

local unexpected_disconnect_callback = null;
server_table.isconnected <- function() { return true; };
server_table.onunexpecteddisconnect <- function(callback) { unexpected_disconnect_callback = callback; };
server_table.connect <- function(callback = null, timeout = 60) {
    if (callback != null) wakeup(0, function() { callback(SERVER_CONNECTED); });
    return SERVER_CONNECTED;
};
server_table.disconnect <- function() {};
server_table.flush <- function(timeout = 0) { return true; };
server_table.setsendtimeoutpolicy <- function(policy, mode, timeout) {};
server_table.expectonlinein <- function(seconds) {};
server_table.sleepfor <- function(seconds) { N.sleepfor(seconds.tofloat()); throw "server.sleepfor"; };

root.agent <- {
    send = send_message,
    on = on_message,
};

foreach (name, entry in dispatch) dispatch[name] = entry.bindenv(root);
return dispatch;
