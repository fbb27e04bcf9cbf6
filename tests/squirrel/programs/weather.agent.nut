// Agent: keeps the last readings and serves them over HTTP.
#require "Rocky.agent.lib.nut:3.0.1"

readings <- [];
const MAX_READINGS = 100;

device.on("reading", function(reading) {
    readings.push(reading);
    if (readings.len() > MAX_READINGS) readings.remove(0);
    server.log(format("Got %.2f C, %.1f %%", reading.temperature, reading.humidity));
});

http.onrequest(function(request, response) {
    try {
        local path = request.path.tolower();
        if (path == "/readings" || path == "/readings/") {
            response.header("Content-Type", "application/json");
            response.send(200, http.jsonencode(readings));
        } else if (path == "/config" && request.method == "POST") {
            local cfg = http.jsondecode(request.body);
            device.send("config", cfg);
            response.send(202, "{\"status\": \"accepted\"}");
        } else {
            response.send(404, @"Not found: use /readings or /config");
        }
    } catch (err) {
        server.error("Request failed: " + err);
        response.send(500, "Internal error: " + err);
    }
});

local sum = @(a, b) a + b;
server.log("Agent started, " + sum(1, 2) + " handlers; URL " + http.agenturl());
