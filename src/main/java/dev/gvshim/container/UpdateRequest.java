package dev.gvshim.container;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.JsonTree;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What `update` is asked to change, as runc's update.go reads it: from its options, or from a
 * {@code linux.resources} object (-r FILE|-, when "all other options are ignored"). A value of 0
 * (or "" for a cpuset) leaves the limit as it is, as runc's cgroup managers skip a 0; -1 lifts a
 * memory, swap or pids limit, or the cpu quota. {@code burst} and {@code idle} are set or not
 * (null): there 0 is a value.
 *
 * @param unsupported fields of the JSON that update cannot change (runc's update ignores them; gvshim says so)
 */
record UpdateRequest(long memory, long reservation, long swap, boolean kernel, long shares, long quota, long period,
        Long burst, long rtRuntime, long rtPeriod, Long idle, String cpus, String mems, int blkioWeight,
        List<Throttle> throttles, long pids, Map<String, String> unified, List<String> unsupported) {

    /** A blockIO throttle: v1's blkio.throttle.KIND_device, v2's io.max key (rbps, wbps, riops, wiops). */
    record Throttle(String v1File, String v2Key, long major, long minor, long rate) {
    }

    private static final String[][] THROTTLES = {{"throttleReadBpsDevice", "read_bps", "rbps"},
        {"throttleWriteBpsDevice", "write_bps", "wbps"}, {"throttleReadIOPSDevice", "read_iops", "riops"},
        {"throttleWriteIOPSDevice", "write_iops", "wiops"}};

    /** The options as given (name without dashes, value), runc's parsing and its words for a bad value. */
    static UpdateRequest ofOptions(Map<String, String> o) throws GvshimException {
        long memory = size(o, "memory");
        long swap = size(o, "memory-swap");
        long reservation = size(o, "memory-reservation");
        boolean kernel = size(o, "kernel-memory") != 0 | size(o, "kernel-memory-tcp") != 0;
        long period = unsigned(o, "cpu-period");
        long rtPeriod = unsigned(o, "cpu-rt-period");
        long shares = unsigned(o, "cpu-share");
        long quota = signed(o, "cpu-quota");
        long rtRuntime = signed(o, "cpu-rt-runtime");
        String w = o.get("blkio-weight");
        String p = o.get("pids-limit");
        return new UpdateRequest(memory, reservation, swap, kernel, shares, quota, period, null, rtRuntime, rtPeriod, null,
                o.getOrDefault("cpuset-cpus", ""), o.getOrDefault("cpuset-mems", ""), w == null ? 0 : Integer.parseInt(w),
                List.of(), p == null ? 0 : Long.parseLong(p), Map.of(), List.of());
    }

    /**
     * runc's IntFlag (Go's flag package): a value that is not an int is refused when the command
     * line is parsed, before the container is looked up ("invalid value ... parse error").
     */
    static void checkInt(String option, String value) throws GvshimException {
        if (value != null && !value.matches("[+-]?\\d{1,10}")) {
            throw RuntimeFailures.args("invalid value \"" + value + "\" for flag -" + option + ": parse error");
        }
        if (value != null) {
            try {
                Integer.parseInt(value);
            } catch (NumberFormatException e) {
                throw RuntimeFailures.args("invalid value \"" + value + "\" for flag -" + option + ": value out of range");
            }
        }
    }

    /** A {@code linux.resources} object (runc decodes it into specs.LinuxResources). */
    static UpdateRequest ofJson(byte[] json) throws GvshimException {
        JsonNode r;
        try {
            r = JsonTree.read(json);
        } catch (JsonProcessingException e) {
            throw RuntimeFailures.args("cannot parse --resources: " + JsonTree.plainMessage(e));
        }
        if (!r.isObject()) {
            throw RuntimeFailures.args("cannot parse --resources: not a JSON object (runc's linux.resources)");
        }
        JsonNode m = r.path("memory");
        JsonNode c = r.path("cpu");
        JsonNode io = r.path("blockIO");
        List<Throttle> throttles = new ArrayList<>();
        for (String[] t : THROTTLES) {
            for (JsonNode d : io.path(t[0])) {
                throttles.add(new Throttle("blkio.throttle." + t[1] + "_device", t[2], d.path("major").asLong(),
                        d.path("minor").asLong(), d.path("rate").asLong()));
            }
        }
        Map<String, String> unified = new LinkedHashMap<>();
        r.path("unified").properties().forEach(e -> unified.put(e.getKey(), e.getValue().asText()));
        List<String> unsupported = new ArrayList<>();
        // what asks for no change passes: swappiness -1 (the kernel's default), false for the booleans
        if (m.path("swappiness").isNumber() && m.path("swappiness").asLong() != -1) {
            unsupported.add("memory.swappiness");
        }
        for (String k : List.of("disableOOMKiller", "useHierarchy")) {
            if (m.path(k).asBoolean(false)) {
                unsupported.add("memory." + k);
            }
        }
        for (String k : List.of("leafWeight", "weightDevice")) {
            if (io.path(k).isArray() ? !io.path(k).isEmpty() : io.path(k).asLong(0) != 0) {
                unsupported.add("blockIO." + k);
            }
        }
        for (String k : List.of("devices", "hugepageLimits", "rdma", "network")) {
            if (r.path(k).isContainerNode() && !r.path(k).isEmpty()) {
                unsupported.add(k);
            }
        }
        return new UpdateRequest(m.path("limit").asLong(0), m.path("reservation").asLong(0), m.path("swap").asLong(0),
                m.path("kernel").asLong(0) != 0 || m.path("kernelTCP").asLong(0) != 0, c.path("shares").asLong(0),
                c.path("quota").asLong(0), c.path("period").asLong(0), optional(c.path("burst")),
                c.path("realtimeRuntime").asLong(0), c.path("realtimePeriod").asLong(0), optional(c.path("idle")),
                c.path("cpus").asText(""), c.path("mems").asText(""), io.path("weight").asInt(0), List.copyOf(throttles),
                r.path("pids").path("limit").asLong(0), unified, List.copyOf(unsupported));
    }

    /** The cgroup v1 controllers whose files the update writes. */
    java.util.Set<String> v1Controllers() {
        java.util.Set<String> c = new java.util.LinkedHashSet<>();
        if (!cpus.isEmpty() || !mems.isEmpty()) {
            c.add("cpuset");
        }
        if (memory != 0 || swap != 0 || reservation != 0) {
            c.add("memory");
        }
        if (shares != 0 || quota != 0 || period != 0 || burst != null || idle != null || rtPeriod != 0 || rtRuntime != 0) {
            c.add("cpu");
        }
        if (pids != 0) {
            c.add("pids");
        }
        if (blkioWeight != 0 || !throttles.isEmpty()) {
            c.add("blkio");
        }
        return c;
    }

    /** runc's ConvertMemorySwapToCgroupV2Value: memory+swap as cgroup v2's swap alone; its words for what cannot be. */
    static long swapV2(long swap, long memory, String dir) throws CgroupWrites.Refused {
        if (memory == -1 && swap == 0) {
            return -1;
        }
        if (swap == -1 || swap == 0) {
            return swap;
        }
        if (memory == 0 || memory == -1) {
            throw new CgroupWrites.Refused(dir + "/memory.swap.max", "unable to set swap limit without memory limit");
        }
        if (swap < memory) {
            throw new CgroupWrites.Refused(dir + "/memory.swap.max", "memory+swap limit should be >= memory limit");
        }
        return swap - memory;
    }

    private static Long optional(JsonNode n) {
        return n.isNumber() ? n.asLong() : null;
    }

    /** runc: "-1" as is, else go-units' RAMInBytes; its error after "invalid value for OPTION: ". */
    private static long size(Map<String, String> o, String option) throws GvshimException {
        String v = o.get(option);
        if (v == null || v.isEmpty()) {
            return 0;
        }
        if (v.equals("-1")) {
            return -1;
        }
        try {
            return ramInBytes(v);
        } catch (IllegalArgumentException e) {
            throw RuntimeFailures.args("invalid value for " + option + ": " + e.getMessage());
        }
    }

    private static final Pattern SIZE = Pattern.compile("^(\\d+(\\.\\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$");

    /** docker/go-units RAMInBytes: "256M", "1.5g", "512kb", "100" (bytes), binary multiples. */
    static long ramInBytes(String s) {
        Matcher m = SIZE.matcher(s);
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid size: '" + s + "'");
        }
        double size;
        try {
            size = Double.parseDouble(m.group(1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("strconv.ParseFloat: parsing \"" + m.group(1) + "\": invalid syntax", e);
        }
        String unit = m.group(3) == null ? "" : m.group(3).toLowerCase(Locale.ROOT);
        int shift = "kmgtp".indexOf(unit.isEmpty() ? "?" : unit);
        return (long) (size * (shift < 0 ? 1 : Math.pow(1024, shift + 1)));
    }

    private static long unsigned(Map<String, String> o, String option) throws GvshimException {
        return number(o, option, false);
    }

    private static long signed(Map<String, String> o, String option) throws GvshimException {
        return number(o, option, true);
    }

    /** Go's strconv.ParseUint / ParseInt (base 10, 64 bits) and their errors, after runc's "invalid value for". */
    private static long number(Map<String, String> o, String option, boolean signed) throws GvshimException {
        String v = o.get(option);
        if (v == null || v.isEmpty()) {
            return 0;
        }
        String fn = signed ? "strconv.ParseInt" : "strconv.ParseUint";
        if (!v.matches(signed ? "[+-]?\\d+" : "\\d+")) {
            throw RuntimeFailures.args("invalid value for " + option + ": " + fn + ": parsing \"" + v + "\": invalid syntax");
        }
        BigInteger n = new BigInteger(v);
        BigInteger max = signed ? BigInteger.valueOf(Long.MAX_VALUE) : BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
        if (n.compareTo(max) > 0 || n.compareTo(BigInteger.valueOf(Long.MIN_VALUE)) < 0) {
            throw RuntimeFailures.args("invalid value for " + option + ": " + fn + ": parsing \"" + v + "\": value out of range");
        }
        return n.longValue(); // an unsigned value above Long.MAX_VALUE keeps its bits (written back unsigned)
    }
}
