"""The Squirrel the user writes while following the Development Guide; the simulator runs
it on its Squirrel VM."""

from __future__ import annotations

APP_DEVICE = """\
// Takes a reading every ten seconds and sends it to the agent, which publishes it.
local reading = 0;
function measure() {
    reading++;
    agent.send("reading", { "measureTime": time().tostring(), "data": reading });
    imp.wakeup(10, measure);
}
measure();
"""
APP_DEVICE_2 = APP_DEVICE.replace("every ten seconds", "every five seconds").replace(
    "imp.wakeup(10", "imp.wakeup(5"
)
APP_AGENT = """\
// Publishes every reading the device sends.
device.on("reading", function(reading) {
    server.log("Data published successfully:");
    server.log(http.jsonencode(reading));
});
"""
DUT_DEVICE = """\
// Device-under-test firmware: test the hardware, bless the device if it passes.
server.log("Testing the device under test");
local passed = hardware.voltage() > 3.0;
server.bless(passed, function(blessed) {
    server.log("Blessing " + (blessed ? "succeeded" : "failed"));
    if (blessed) imp.clearconfiguration();
});
"""
DUT_AGENT = 'server.log("DUT agent ready");\n'
FIXTURE_DEVICE = """\
// BlinkUp fixture firmware: every ten seconds, configures the devices under test in front
// of the fixture with the factory network; they then run the DUT firmware.
const SSID = "factory";
const PASSWORD = "secret";
const PERIOD = 10;
local blinkups = 0;
function blinkUp() {
    blinkups++;
    server.log("BlinkUp #" + blinkups + " of the devices in front of the fixture");
    server.factoryblinkup(SSID, PASSWORD, hardware.pin5, BLINKUP_FAST);
    imp.wakeup(PERIOD, blinkUp);
}
server.log("Fixture ready");
imp.wakeup(PERIOD, blinkUp);
"""
FIXTURE_DEVICE_2 = FIXTURE_DEVICE.replace("Fixture ready", "Fixture ready (v2)")
FIXTURE_AGENT = 'server.log("Fixture agent ready");\n'

MESSAGES = """\
// Logs twenty numbered messages when it starts.
local i = 0;
while (i < 20) {
    i++;
    server.log("Message #" + i + "#");
}
"""
