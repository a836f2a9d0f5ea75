package dev.gvshim.container;

import dev.gvshim.call.Launch;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.runsc.RunscCommand;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** `events [--stats] [--interval D] ID`: runsc's events, each line passed on as it comes, with the container's own id. */
public final class Events {
    private Events() {
    }

    public static int run(RuntimeCall rc, String id, boolean stats, String interval) throws GvshimException {
        Container ct = rc.lookup.existing(id);
        int every = interval == null ? 0 : seconds(interval);
        // runc's checks and texts (events.go): runsc would stream forever for both, printing
        // nothing for a stopped container (it retries every interval)
        Status status = Status.of(rc.lookup.status(ct));
        if (status == null || status == Status.STOPPED) {
            throw RuntimeFailures.of("CONTAINER_NOT_RUNNING", "container with id " + id + " is not running"); // runc's text
        }
        List<String> args = new ArrayList<>(List.of("events"));
        if (stats) {
            args.add("--stats");
        }
        if (interval != null) {
            args.add("--interval=" + every);
        }
        args.add(ct.runscId());
        // runsc prints a JSON object a line ({"type":"stats","id":ID,...}), every interval until it is stopped
        Launch.Ran r = rc.runsc(ct, args, false, RunscCommand.Stdio.CAPTURE, false, null, line -> {
            rc.call.out().println(ct.human(line));
            rc.call.out().flush();
        });
        if (!r.ok()) {
            throw Diagnosis.plain(rc, ct, "events", r);
        }
        return 0;
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)?");

    /** runc takes a Go duration (5s, 1m, 500ms); runsc whole seconds (a shorter interval is 1 s). */
    static int seconds(String d) throws GvshimException {
        Matcher m = DURATION.matcher(d.strip());
        if (!m.matches()) {
            throw RuntimeFailures.args("invalid --interval \"" + d + "\" (a duration such as 5s or 1m)");
        }
        long n = Long.parseLong(m.group(1));
        if (n == 0) {
            throw RuntimeFailures.args("duration interval must be greater than 0"); // runc's text
        }
        String u = m.group(2) == null ? "s" : m.group(2);
        long s = switch (u) {
            case "ms" -> (n + 999) / 1000;
            case "m" -> n * 60;
            case "h" -> n * 3600;
            default -> n;
        };
        return (int) Math.max(1, Math.min(s, Integer.MAX_VALUE));
    }
}
