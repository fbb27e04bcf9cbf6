/**
 * A blinking LED with a configurable pattern.
 */
class Blinker {
    static VERSION = "1.2.0";

    _pin = null;
    _pattern = null;
    _step = 0;
    _timer = null;

    constructor(pin, pattern = [1, 0]) {
        _pin = pin;
        _pattern = clone pattern;
        _pin.configure(DIGITAL_OUT, 0);
    }

    function start(period = 0.5) {
        stop();
        _tick(period);
        return this;
    }

    function stop() {
        if (_timer != null) {
            imp.cancelwakeup(_timer);
            _timer = null;
        }
    }

    function _tick(period) {
        _pin.write(_pattern[_step++ % _pattern.len()]);
        _timer = imp.wakeup(period, function() { _tick(period); }.bindenv(this));
    }

    function _typeof() { return "Blinker"; }
}

class FastBlinker extends Blinker {
    constructor(pin) {
        base.constructor(pin, [1, 0, 1, 0, 0, 0]);
    }
}

// New slots in the root table and in a table.
::blinker <- FastBlinker(hardware.pin9).start(0.1);
helpers <- {};
helpers.toggle <- function(b) { return b instanceof Blinker ? b.stop() : null; };
local kind = typeof blinker;
delete helpers.toggle;
server.log(kind + " at line " + __LINE__ + " of " + __FILE__ + '\x41'.tochar());
