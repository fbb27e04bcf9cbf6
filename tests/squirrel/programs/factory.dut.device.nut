// DUT firmware: tests the device, blesses it when every test passes, then clears the
// factory network settings so that the end user's BlinkUp starts from a clean device.
local params = imp.configparams;

function runTests() {
    local led = hardware.pin9;
    led.configure(DIGITAL_OUT, 1);
    return hardware.voltage() > 3.0;
}

local passed = runTests();
local bless = server.bless;
bless(passed, function(blessed) {
    server.log(blessed ? "Blessing succeeded" : "Blessing failed");
    if (blessed) imp.clearconfiguration();
    agent.send("result", {"passed": passed, "blessed": blessed, "params": params});
});
