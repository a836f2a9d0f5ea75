package dev.gvshim.container;

import java.util.List;

/**
 * What a runc verb's global options ask of the runtime, as Docker and containerd pass them ({@code --root R --log L
 * --log-format json [--systemd-cgroup]}), plus gvshim's own (Docker's {@code runtimeArgs}).
 *
 * @param root          state directory shared with runc and runsc (null: /run/gvshim, or per user)
 * @param log           where error lines go for containerd to read (null: stderr only)
 * @param logFormat     json or text
 * @param debug         --debug
 * @param systemdCgroup --systemd-cgroup: accepted; runsc 2022-12 has no systemd driver (logged)
 * @param rootless      true, false or auto (auto: rootless when not uid 0)
 * @param config        --config FILE (null: /etc/gvshim/config.json if it exists)
 * @param runsc         --runsc PATH
 * @param network       --network none|sandbox|host
 * @param platform      --platform NAME
 * @param runscArgs     --runsc-arg ARG, verbatim
 * @param runscFlags    --runsc-flag NAME=VALUE
 * @param execWithoutSeccomp --exec-without-seccomp[=true|false] (null: not given; the configuration file decides)
 */
public record RuntimeOptions(String root, String log, String logFormat, boolean debug, boolean systemdCgroup, String rootless,
        String config, String runsc, String network, String platform, List<String> runscArgs, List<String> runscFlags,
        Boolean execWithoutSeccomp) {
}
