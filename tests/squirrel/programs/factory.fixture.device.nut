// BlinkUp fixture firmware: when the operator presses the button, the fixture sends the
// factory network settings and enrollment to the device under test through its LED.
const FACTORY_SSID = "factory-net";
const DEBOUNCE = 0.2;

local button = hardware.pin8;
local blinkupLed = hardware.pin9;
local ready = true;

function configureDut() {
    if (!ready) return;
    ready = false;
    server.log("Starting factory BlinkUp");
    server.factoryblinkup(FACTORY_SSID, "", blinkupLed, BLINKUP_FAST);
    imp.wakeup(10, function() { ready = true; });
}

button.configure(DIGITAL_IN_PULLUP, function() {
    imp.wakeup(DEBOUNCE, function() {
        if (button.read() == 0) configureDut();
    });
});
