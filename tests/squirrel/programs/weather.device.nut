// Weather station: reads the sensor every READING_INTERVAL seconds and sends the
// reading to the agent; sleeps between readings when nothing is pending.
#require "HTS221.device.lib.nut:2.0.1"

const READING_INTERVAL = 60;   # seconds
const MAX_QUEUE = 0x20;
const LED_MASK = 017;          // octal, as in the data sheet

enum State { IDLE, READING, SENDING }

local state = State.IDLE;
local queue = [];
local i2c = hardware.i2c89;
i2c.configure(CLOCK_SPEED_400_KHZ);
local sensor = HTS221(i2c, 0xBE);

function takeReading() {
    state = State.READING;
    sensor.read(function(result) {
        if ("error" in result) {
            server.error("Sensor error: " + result.error);
        } else {
            local reading = {
                "temperature": result.temperature,
                "humidity": result.humidity,
                "ts": time()
            };
            if (queue.len() >= MAX_QUEUE) queue.remove(0);
            queue.push(reading);
            state = State.SENDING;
            agent.send("reading", reading);
        }
        state = State.IDLE;
    });
    // Schedule the next reading: imp.wakeup loops instead of blocking.
    imp.wakeup(READING_INTERVAL, takeReading);
}

agent.on("config", function(cfg) {
    foreach (key, value in cfg) {
        switch (key) {
            case "interval":
                server.log(format("New interval: %d s (was %.1f)", value, 60.0));
                break;
            default:
                server.log(@"Unknown key """ + key + @""" ignored
(this message spans two lines)");
        }
    }
});

local scale = 1.5e-3 * 2E+2 / 0.5;
local flags = (LED_MASK >>> 1) | (1 << 3) & ~0x0F ^ 'A';
local cmp = 3 <=> 4;
server.log("Start: " + imp.getsoftwareversion() + "\t" + scale + " " + cmp + "\n");
takeReading();
