/*
 * Serial shell.  One command per line; backspace/DEL erases.  Every bad
 * input gets exactly one "error: ..." line and the shell carries on: the
 * allocator only ever sees requests that its own checks accept or reject.
 */
#include "shell.h"

#include <stdbool.h>
#include <stdint.h>

#include "bootmem.h"
#include "klib.h"
#include "kprintf.h"
#include "layout_check.h"
#include "mem_report.h"
#include "meta_slot.h"
#include "panic.h"
#include "pic.h"
#include "serial.h"
#include "shell_meta.h"
#include "zones.h"

#define LINE_MAX_BYTES 80
#define MAX_ARGS 4

static struct selftest_totals *shell_totals;

/* What read_line saw besides the line: a line too long to hold, or a byte
 * that is neither printable ASCII nor a tab, backspace or line end (so that
 * a line is run exactly as typed, or not at all). */
struct line_trouble {
	bool too_long;
	int bad_byte; /* -1: none */
};

/* Reads one line with echo and backspace into line (NUL-terminated); a tab
 * is a separator like a space. */
static struct line_trouble read_line(char *line)
{
	static bool last_was_cr;
	struct line_trouble trouble = {false, -1};
	unsigned len = 0;

	for (;;) {
		unsigned char c = (unsigned char)serial_getc();

		if (c == '\n' && last_was_cr) { /* "\r\n": one line end */
			last_was_cr = false;
			continue;
		}
		last_was_cr = c == '\r';
		if (c == '\r' || c == '\n') {
			kputs("\n");
			line[len] = '\0';
			return trouble;
		}
		if (c == '\t')
			c = ' ';
		if (c == '\b' || c == 0x7f) {
			if (len > 0) {
				len--;
				kputs("\b \b");
			}
		} else if (c < ' ' || c >= 0x7f) {
			if (trouble.bad_byte < 0)
				trouble.bad_byte = c;
		} else if (len + 1 < LINE_MAX_BYTES) {
			line[len++] = (char)c;
			serial_putc((char)c);
		} else {
			trouble.too_long = true;
		}
	}
}

static unsigned split(char *line, char *argv[MAX_ARGS + 1])
{
	unsigned argc = 0;

	while (*line) {
		while (*line == ' ' || *line == '\t')
			*line++ = '\0';
		if (!*line)
			break;
		if (argc == MAX_ARGS + 1)
			return argc + 1; /* too many */
		argv[argc++] = line;
		while (*line && *line != ' ' && *line != '\t')
			line++;
	}
	return argc;
}

/* Parses decimal or 0x-prefixed hex; false on junk, empty or overflow. */
static bool parse_u64(const char *s, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return false;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

static bool arg_number(const char *cmd, const char *what, unsigned argc, char **argv,
		       unsigned index, uint64_t *out)
{
	if (index >= argc) {
		kprintf("error: %s: missing <%s>\n", cmd, what);
		return false;
	}
	if (!parse_u64(argv[index], out)) {
		kprintf("error: %s: malformed %s '%s'\n", cmd, what, argv[index]);
		return false;
	}
	return true;
}

static bool arg_pfn(const char *cmd, unsigned argc, char **argv, unsigned index, uint64_t *pfn)
{
	if (!arg_number(cmd, "pfn", argc, argv, index, pfn))
		return false;
	if (*pfn >= zones_max_pfn()) {
		kprintf("error: %s: pfn %lu out of range (0..%lu)\n", cmd, *pfn,
			zones_max_pfn() - 1);
		return false;
	}
	return true;
}

static bool arg_order(const char *cmd, unsigned argc, char **argv, unsigned index, unsigned *order)
{
	uint64_t v;

	if (!arg_number(cmd, "order", argc, argv, index, &v))
		return false;
	if (v > MS_MAX_ORDER) {
		kprintf("error: %s: invalid order %lu (0..%d)\n", cmd, v, MS_MAX_ORDER);
		return false;
	}
	*order = (unsigned)v;
	return true;
}

static void cmd_stats(void)
{
	for (int z = 0; z < NR_ZONES; z++) {
		struct ms_instance *inst = zone_instance((enum zone_id)z);
		struct ms_stats st;
		struct ms_frag frag;

		if (!inst)
			continue;
		ms_stats(inst, &st);
		ms_fragmentation(inst, &frag);
		kprintf("stats: zone %-6s span %lu reserved %lu free %lu (cached %lu) "
			"allocated %lu quarantined %lu in %lu blocks\n",
			zone_name((enum zone_id)z), st.nr_frames, st.nr_reserved, st.nr_free,
			st.nr_cached, st.nr_allocated, st.nr_quarantined, st.nr_quarantined_blocks);
		kprintf("stats: zone %-6s allocations %lu frees %lu largest free order %d\n",
			zone_name((enum zone_id)z), st.nr_alloc_events, st.nr_free_events,
			frag.largest_free_order);
	}
}

static void cmd_alloc(unsigned argc, char **argv)
{
	struct ms_alloc_opts opts = {0};
	struct ms_handle h;
	enum zone_id served;

	if (!arg_order("alloc", argc, argv, 1, &opts.order))
		return;
	int err = zones_alloc(ZONE_NORMAL, &opts, &h, &served);
	if (err != MS_OK) {
		kprintf("error: alloc: %s\n", ms_strerror(err));
		return;
	}
	kprintf("alloc: pfn %lu order %u zone %s generation %u\n", h.pfn, opts.order,
		zone_name(served), h.generation);
}

static void cmd_free(unsigned argc, char **argv)
{
	uint64_t pfn;
	unsigned order;

	if (!arg_pfn("free", argc, argv, 1, &pfn) || !arg_order("free", argc, argv, 2, &order))
		return;
	int err = zones_free(pfn, order);
	if (err != MS_OK)
		kprintf("error: free: pfn %lu order %u: %s\n", pfn, order, ms_strerror(err));
	else
		kprintf("free: pfn %lu order %u freed\n", pfn, order);
}

/* Whether pfn lies in one of the usable ranges the instance was given. */
static bool usable(const struct ms_instance *inst, uint64_t pfn)
{
	for (unsigned i = 0; inst != NULL && i < inst->nr_ranges; i++) {
		if (pfn - inst->ranges[i].start_pfn < inst->ranges[i].nr_frames)
			return true;
	}
	return false;
}

static void cmd_poison(unsigned argc, char **argv)
{
	uint64_t pfn;

	if (!arg_pfn("poison", argc, argv, 1, &pfn))
		return;
	struct ms_instance *inst = zone_of_pfn(pfn);
	int err = ms_mark_poisoned(inst, pfn);
	if (err != MS_OK)
		kprintf("error: poison: pfn %lu: %s\n", pfn, ms_strerror(err));
	else if (!usable(inst, pfn))
		kprintf("poison: pfn %lu poisoned (reserved, not usable RAM: it is never handed "
			"out, so nothing is quarantined)\n", pfn);
	else
		kprintf("poison: pfn %lu poisoned\n", pfn);
}

static void cmd_meta(unsigned argc, char **argv)
{
	uint64_t pfn;

	if (arg_pfn("meta", argc, argv, 1, &pfn))
		shell_print_meta(pfn);
}

static void run_layout(unsigned argc, char **argv)
{
	(void)argc;
	(void)argv;
	layout_check();
}

static void run_mem(unsigned argc, char **argv)
{
	(void)argc;
	(void)argv;
	mem_report_map();
	mem_report_totals(ms_metadata_bytes(zones_max_pfn()), zones_frames_managed());
}

static void run_buddyinfo(unsigned argc, char **argv)
{
	(void)argc;
	(void)argv;
	zones_print_buddyinfo();
}

static void run_stats(unsigned argc, char **argv)
{
	(void)argc;
	(void)argv;
	cmd_stats();
}

static void run_selftest(unsigned argc, char **argv)
{
	struct selftest_totals run = {0, 0};

	(void)argc;
	(void)argv;
	selftest_run_all(&run);
	selftest_print_summary(&run);
	shell_totals->passed += run.passed;
	shell_totals->failed += run.failed;
}

static void run_halt(unsigned argc, char **argv)
{
	(void)argc;
	(void)argv;
	kprintf("halt: %u passed, %u failed\n", shell_totals->passed, shell_totals->failed);
	qemu_exit(shell_totals->failed ? QEMU_EXIT_FAILURE : QEMU_EXIT_SUCCESS);
}

static void run_help(unsigned argc, char **argv);

struct command {
	const char *name;
	const char *usage; /* arguments, for help */
	unsigned max_args; /* arguments after the name */
	const char *summary;
	void (*run)(unsigned argc, char **argv);
};

static const struct command commands[] = {
    {"help", "", 0, "this list", run_help},
    {"layout", "", 0, "schema members vs. the compiled struct", run_layout},
    {"mem", "", 0, "memory map and frame totals", run_mem},
    {"buddyinfo", "", 0, "free blocks per order, per zone", run_buddyinfo},
    {"stats", "", 0, "allocator counters per zone", run_stats},
    {"meta", "<pfn>", 1, "every member of the frame's metadata slot", cmd_meta},
    {"alloc", "<order>", 1, "allocate 2^order frames (Normal, falls back to DMA)", cmd_alloc},
    {"free", "<pfn> <order>", 2, "free an allocated block", cmd_free},
    {"poison", "<pfn>", 1, "poison a frame; its block is quarantined", cmd_poison},
    {"selftest", "", 0, "run the allocator self-tests again", run_selftest},
    {"halt", "", 0, "exit QEMU (success if no self-test failed)", run_halt},
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void run_help(unsigned argc, char **argv)
{
	(void)argc;
	(void)argv;
	kputs("commands (numbers in decimal or 0x hex):\n");
	for (size_t i = 0; i < NR_COMMANDS; i++) {
		char name[24];

		ksnprintf(name, sizeof(name), "%s %s", commands[i].name, commands[i].usage);
		kprintf("  %-20s %s\n", name, commands[i].summary);
	}
}

static void execute(char *line)
{
	char *argv[MAX_ARGS + 1];
	unsigned argc = split(line, argv);

	if (argc == 0)
		return;
	for (size_t i = 0; i < NR_COMMANDS; i++) {
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		if (argc - 1 > commands[i].max_args)
			kprintf("error: %s: too many arguments\n", argv[0]);
		else
			commands[i].run(argc, argv);
		return;
	}
	kprintf("error: unknown command '%s' (try 'help')\n", argv[0]);
}

_Noreturn void shell_run(struct selftest_totals *totals)
{
	char line[LINE_MAX_BYTES];

	shell_totals = totals;
	pic_init();
	serial_enable_rx_irq();
	kprintf("shell: type 'help' for commands\n");
	for (;;) {
		kputs("metaslot> ");
		struct line_trouble trouble = read_line(line);
		if (trouble.too_long)
			kprintf("error: line longer than %u characters; nothing run\n",
				LINE_MAX_BYTES - 1);
		else if (trouble.bad_byte >= 0)
			kprintf("error: byte 0x%x is not printable ASCII; nothing run\n",
				(unsigned)trouble.bad_byte);
		else
			execute(line);
	}
}
