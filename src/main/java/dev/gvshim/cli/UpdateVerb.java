package dev.gvshim.cli;

import static dev.gvshim.cli.GlobalOptions.go;
import static dev.gvshim.cli.Options.value;

import dev.gvshim.container.RuntimeCall;
import dev.gvshim.container.Update;
import dev.gvshim.failure.GvshimException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/** {@code update [OPTIONS] ID}: runc 1.1's options, written to the sandbox's cgroup ({@link Update}). */
final class UpdateVerb extends RuntimeVerb {
    /** runc 1.1's options (update.go), with its descriptions. */
    private static final String[][] OPTIONS = {
        {"--blkio-weight", "Specifies per cgroup weight, range is from 10 to 1000."},
        {"--cpu-period", "CPU CFS period to be used for hardcapping (in usecs). 0 to use system default."},
        {"--cpu-quota", "CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period."},
        {"--cpu-share", "CPU shares (relative weight vs. other containers)."},
        {"--cpu-rt-period", "CPU realtime period to be used for hardcapping (in usecs). 0 to use system default."},
        {"--cpu-rt-runtime", "CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period."},
        {"--cpuset-cpus", "CPU(s) to use."},
        {"--cpuset-mems", "Memory node(s) to use."},
        {"--memory", "Memory limit (in bytes; 256M, 1G): the sandbox's, gVisor's own memory included."},
        {"--memory-reservation", "Memory reservation or soft_limit (in bytes)."},
        {"--memory-swap", "Total memory usage (memory + swap); set '-1' to enable unlimited swap."},
        {"--pids-limit", "Refused: the host's pids limit counts gVisor's own threads."},
        {"--l3-cache-schema", "The string of Intel RDT/CAT L3 cache schema."},
        {"--mem-bw-schema", "The string of Intel RDT/MBA memory bandwidth schema."},
    };

    @Override
    String name() {
        return "update";
    }

    @Override
    void options(CommandSpec s) {
        s.addOption(value(go("-r", "--resources"), "FILE", String.class, "Resources JSON (linux.resources), or - for stdin;"
                + " all other options are then ignored."));
        for (String[] o : OPTIONS) {
            // --cpu-shares: the spelling of docker's option and of the brief's, accepted for runc's --cpu-share
            String[] names = o[0].equals("--cpu-share") ? go("--cpu-share", "--cpu-shares") : go(o[0]);
            s.addOption(value(names, "VALUE", String.class, o[1]));
        }
        for (String hidden : List.of("--kernel-memory", "--kernel-memory-tcp")) {
            s.addOption(OptionSpec.builder(go(hidden)).paramLabel("VALUE").type(String.class).arity("1").hidden(true).build());
        }
    }

    @Override
    int call(RuntimeCall rc, ParseResult p, String id, List<String> more) throws GvshimException {
        Map<String, String> given = new LinkedHashMap<>();
        for (OptionSpec o : p.matchedOptions()) {
            String name = o.longestName().replaceFirst("^-+", "");
            if (!name.equals("resources") && o.getValue() != null) {
                given.put(name.equals("cpu-shares") ? "cpu-share" : name, o.getValue().toString());
            }
        }
        return Update.run(rc, id, p.matchedOptionValue("--resources", null), given);
    }
}
