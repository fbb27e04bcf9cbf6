// Agent of the DUT firmware: reports each test result to the fixture's agent.
device.on("result", function(result) {
    local url = "fixture_url" in result.params ? result.params.fixture_url : null;
    if (url == null) {
        server.error("No fixture URL: result " + http.jsonencode(result) + " not reported");
        return;
    }
    local headers = {"Content-Type": "application/json"};
    http.post(url, headers, http.jsonencode(result)).sendasync(function(response) {
        server.log("Fixture answered " + response.statuscode);
    });
});
