package dev.gvshim.cli;

import dev.gvshim.call.Call;
import dev.gvshim.failure.Exit;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.pool.PoolSpec;
import dev.gvshim.pool.SandboxPool;
import dev.gvshim.pool.SandboxPools;
import dev.gvshim.server.Client;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.ParseResult;

/**
 * {@code gvshim server add-pool SPEC... [--owner PID] [--wait S]} and {@code remove-pool NAME...}:
 * pools added to and removed from the running server (issue 18; the Java API's SandboxPool is
 * built on them). Served in the server, where the pools live; a one-shot gvshim (GVSHIM_SERVER=off,
 * or a call the server did not take) passes the call on to the server, starting one for add-pool
 * when none runs. Paths in a spec are the caller's, resolved against its working directory.
 */
final class PoolActions {
    static final long MAX_WAIT_SECONDS = 600;

    private PoolActions() {
    }

    static int run(Call call, ParseResult p, String action, ServerVerb verb) throws IOException {
        List<String> args = p.matchedPositionalValue(1, List.<String>of());
        long owner = p.matchedOptionValue("--owner", 0L);
        long wait = p.matchedOptionValue("--wait", 0L);
        if (args.isEmpty()) {
            return ErrorSink.usage(call, "gvshim server", action + " needs " + (action.equals("add-pool")
                    ? "a pool (NAME:min=N,max=N,KEY=VALUE...)" : "the name of a pool"), Exit.USAGE);
        }
        if (owner < 0 || wait < 0 || wait > MAX_WAIT_SECONDS) {
            return ErrorSink.usage(call, "gvshim server", "--owner must be a pid, --wait 0 to " + MAX_WAIT_SECONDS + " seconds",
                    Exit.USAGE);
        }
        List<PoolSpec> specs = new ArrayList<>();
        if (action.equals("add-pool")) {
            try {
                for (String a : args) {
                    specs.add(PoolSpec.parse(a, call.cwd()));
                }
            } catch (IllegalArgumentException e) {
                return ErrorSink.usage(call, "gvshim server", e.getMessage(), Exit.USAGE);
            }
        } else {
            for (String a : args) {
                if (!a.matches(PoolSpec.NAME)) {
                    return ErrorSink.usage(call, "gvshim server", "remove-pool " + a + ": not a pool's name", Exit.USAGE);
                }
            }
        }
        SandboxPools pools = call.pools();
        if (pools == null) {
            return forward(call, action, specs, args, owner, wait, verb);
        }
        if (action.equals("remove-pool")) {
            return remove(call, pools, args, owner);
        }
        List<SandboxPool> added = new ArrayList<>();
        List<Boolean> fresh = new ArrayList<>();
        try {
            for (PoolSpec s : specs) {
                fresh.add(pools.find(s.name()) == null);
                added.add(pools.add(s, owner));
            }
            for (SandboxPool sp : added) {
                if (wait > 0) { // without --wait the pool fills in the background: awaitReady(0) would call it not ready
                    sp.awaitReady(wait * 1000);
                }
            }
            added.forEach(sp -> call.out().println(sp.spec().name()));
            return 0;
        } catch (GvshimException e) {
            undo(pools, added, fresh, owner);
            return ErrorSink.failure(call, e.failure());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            undo(pools, added, fresh, owner);
            return ErrorSink.failure(call, Failure.of("POOL_NOT_READY", "add-pool was interrupted", null,
                    "the server is stopping", "add the pool again"));
        }
    }

    /**
     * A failed add-pool leaves nothing of its own behind: its owner's hold on each pool it named
     * (the API's start threw: its JVM has no SandboxPool to close), and the pools it made itself
     * (a pool that cannot fill would otherwise stay, and a corrected profile under its name be
     * refused as POOL_EXISTS). A pool that was there before, or that another owner holds, stays.
     */
    private static void undo(SandboxPools pools, List<SandboxPool> added, List<Boolean> fresh, long owner) {
        for (int i = 0; i < added.size(); i++) {
            if (owner > 0 || fresh.get(i)) {
                pools.release(added.get(i).spec().name(), added.get(i), owner);
            }
        }
    }

    /** {@code owner} > 0 (the API's close()): that owner's hold only; the pool goes when nothing else holds it. */
    private static int remove(Call call, SandboxPools pools, List<String> names, long owner) {
        List<String> unknown = new ArrayList<>();
        for (String n : names) {
            if (pools.release(n, null, owner) == null) {
                unknown.add(n);
            }
        }
        if (!unknown.isEmpty()) {
            return ErrorSink.failure(call, unknown(String.join(", ", unknown), pools.names()));
        }
        return 0;
    }

    static Failure unknown(String names, List<String> have) {
        return Failure.of("POOL_UNKNOWN", "no pool " + names, null, "the gvshim server has no pool of that name (its pools: "
                + (have.isEmpty() ? "none" : String.join(", ", have)) + ")", "`gvshim server status` lists them");
    }

    /** From a one-shot gvshim: the same call through the server's socket (paths already absolute); add-pool starts one. */
    private static int forward(Call call, String action, List<PoolSpec> specs, List<String> args, long owner, long wait,
            ServerVerb verb) throws IOException {
        List<String> argv = new ArrayList<>(List.of("gvshim", "server", action));
        if (owner > 0) {
            argv.addAll(List.of("--owner", Long.toString(owner)));
        }
        if (wait > 0) {
            argv.addAll(List.of("--wait", Long.toString(wait)));
        }
        if (action.equals("add-pool")) {
            specs.forEach(s -> argv.add(s.toString()));
            int started = verb.start(call, ServerVerb.DEFAULT_IDLE_SECONDS, List.of(), false); // or finds the running one
            if (started != 0) {
                return started;
            }
        } else {
            argv.addAll(args);
        }
        int rc = verb.ask(call, argv);
        if (rc == Client.NOT_RUNNING) { // ask said no server runs: nothing to remove
            return ErrorSink.failure(call, unknown(String.join(", ", args), List.of()));
        }
        return rc;
    }
}
