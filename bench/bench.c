/*
 * `make bench`: runs every row at least 5 times, prints a table and writes
 * JSON {"machine", "compiler", "rows": [{name, median_ns, min_ns, max_ns,
 * limit_ns, ratio, speedup}]}.  Every figure is ns per alloc+free pair
 * (init_per_gib: ns per GiB).  ratio = median_ns / limit's median_ns.
 *
 *   bench [--json FILE] [--runs N] [--quick] [--only NAME]
 */
#define _DEFAULT_SOURCE 1 /* madvise */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "bench.h"
#include "metaslot/ms_hosted.h"

double bench_scale = 1.0;

static const struct bench_row rows[] = {
	{"limit", bench_limit, true, NULL},
	{"hot_order0_cached", bench_hot_order0_cached, true, NULL},
	{"hot_locked_floor", bench_hot_locked_floor, true, NULL},
	{"hot_claim_floor", bench_hot_claim_floor, true, NULL},
	{"hot_order0_nocache", bench_hot_order0_nocache, true, NULL},
	{"fill_drain", bench_fill_drain, true, NULL},
	{"mixed", bench_mixed, true, NULL},
	{"mixed_16g", bench_mixed_16g, true, NULL},
	{"mixed_16g_1g_live", bench_mixed_16g_1g_live, true, NULL},
	{"mixed_workload", bench_mixed_workload, true, NULL},
	{"mixed_16g_workload", bench_mixed_16g_workload, true, NULL},
	{"hot_order0_cached_2t", bench_hot_order0_cached_2t, true, "hot_order0_cached"},
	{"hot_order0_cached_2i", bench_hot_order0_cached_2i, true, "hot_order0_cached"},
	{"mixed_2t", bench_mixed_2t, true, "mixed"},
	{"init_per_gib", bench_init_per_gib, false, NULL},
};
#define NR_ROWS (sizeof(rows) / sizeof(rows[0]))

struct result {
	double median_ns, min_ns, max_ns;
};

double bench_now_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec * 1e9 + (double)now.tv_nsec;
}

/* The metadata array on 2 MiB pages where the host allows it, as a kernel's
 * direct map would have it. */
struct meta_slot *bench_slots(uint64_t nr_frames)
{
	size_t huge_bytes = (size_t)2 << 20;
	size_t nr_bytes = (ms_metadata_bytes(nr_frames) + huge_bytes - 1) / huge_bytes * huge_bytes;
	struct meta_slot *slots = aligned_alloc(huge_bytes, nr_bytes);

	if (slots != NULL)
		madvise(slots, nr_bytes, MADV_HUGEPAGE);
	return slots;
}

struct ms_instance *bench_instance(uint64_t nr_frames)
{
	struct ms_instance *inst = aligned_alloc(64, sizeof(*inst));
	struct meta_slot *slots = bench_slots(nr_frames);

	if (inst == NULL || slots == NULL ||
	    ms_init(inst, ms_hosted_platform(), slots, 0, nr_frames, "Normal", 0) != MS_OK ||
	    ms_add_range(inst, 0, nr_frames) != MS_OK) {
		fprintf(stderr, "bench: cannot set up %llu frames\n", (unsigned long long)nr_frames);
		exit(1);
	}
	ms_hosted_set_cpu(0);
	return inst;
}

void bench_instance_free(struct ms_instance *inst)
{
	free(inst->slots);
	free(inst);
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static struct result measure(const struct bench_row *row, int nr_runs)
{
	double samples[64];

	for (int i = 0; i < nr_runs; i++)
		samples[i] = row->run();
	qsort(samples, (size_t)nr_runs, sizeof(double), compare_doubles);
	return (struct result){samples[nr_runs / 2], samples[0], samples[nr_runs - 1]};
}

static void machine_name(char *out, size_t out_bytes)
{
	FILE *cpuinfo = fopen("/proc/cpuinfo", "r");
	char line[256];
	int nr_cpus = 0;

	snprintf(out, out_bytes, "unknown");
	while (cpuinfo != NULL && fgets(line, sizeof(line), cpuinfo) != NULL) {
		if (strncmp(line, "model name", 10) == 0) {
			if (nr_cpus++ == 0) {
				char *name = strchr(line, ':');
				name = name != NULL ? name + 2 : line;
				name[strcspn(name, "\n")] = '\0';
				snprintf(out, out_bytes, "%s", name);
			}
		}
	}
	if (cpuinfo != NULL)
		fclose(cpuinfo);
	size_t len = strlen(out);
	snprintf(out + len, out_bytes - len, ", %d CPUs", nr_cpus);
}

/* text as a JSON string: quotes, backslashes and control characters escaped. */
static void json_string(FILE *out, const char *text)
{
	fputc('"', out);
	for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(out, "\\%c", *c);
		else if (*c < 0x20)
			fprintf(out, "\\u%04x", *c);
		else
			fputc(*c, out);
	}
	fputc('"', out);
}

#define BENCH_STR(x) BENCH_STR2(x)
#define BENCH_STR2(x) #x

static const char *compiler_name(void)
{
#if defined(__clang__)
	return "clang " BENCH_STR(__clang_major__) "." BENCH_STR(__clang_minor__) "." BENCH_STR(
		__clang_patchlevel__);
#else
	return "gcc " __VERSION__;
#endif
}

int main(int argc, char **argv)
{
	const char *json_path = NULL, *only = NULL;
	int nr_runs = 5;
	struct result results[NR_ROWS];
	bool done[NR_ROWS] = {false};

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
			json_path = argv[++i];
		else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			nr_runs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--quick") == 0)
			bench_scale = 0.1;
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
			only = argv[++i];
		else {
			fprintf(stderr, "usage: bench [--json FILE] [--runs N] [--quick] [--only NAME]\n");
			return 2;
		}
	}
	if (nr_runs < 1 || nr_runs > 64)
		nr_runs = 5;

	bool known = only == NULL;
	for (size_t i = 0; i < NR_ROWS && !known; i++)
		known = strcmp(only, rows[i].name) == 0;
	if (!known) {
		fprintf(stderr, "bench: no row named '%s' (see the table of `bench` for the names)\n",
			only);
		return 2;
	}

	char machine[256];
	machine_name(machine, sizeof(machine));
	printf("metaslot bench: %s; %s; median of %d runs; ns per alloc+free pair\n", machine,
	       compiler_name(), nr_runs);
	printf("%-22s %10s %10s %10s %9s %7s %8s\n", "row", "median_ns", "min_ns", "max_ns",
	       "limit_ns", "ratio", "speedup");
	for (size_t i = 0; i < NR_ROWS; i++) {
		if (only != NULL && i != 0 && strcmp(only, rows[i].name) != 0)
			continue;
		results[i] = measure(&rows[i], nr_runs);
		done[i] = true;
	}

	FILE *json = json_path != NULL ? fopen(json_path, "w") : NULL;
	if (json_path != NULL && json == NULL) {
		perror(json_path);
		return 1;
	}
	if (json != NULL) {
		fprintf(json, "{\"machine\": ");
		json_string(json, machine);
		fprintf(json, ", \"compiler\": ");
		json_string(json, compiler_name());
		fprintf(json, ", \"runs\": %d, \"rows\": [", nr_runs);
	}
	double limit_ns = results[0].median_ns;
	bool first = true;
	for (size_t i = 0; i < NR_ROWS; i++) {
		if (!done[i])
			continue;
		double ratio = rows[i].has_ratio ? results[i].median_ns / limit_ns : 0;
		double speedup = 0; /* 0: no speedup, or its one-thread row was not run */
		for (size_t j = 0; rows[i].speedup_of != NULL && j < NR_ROWS; j++) {
			if (done[j] && strcmp(rows[j].name, rows[i].speedup_of) == 0)
				speedup = results[j].median_ns / results[i].median_ns;
		}
		printf("%-22s %10.2f %10.2f %10.2f %9.2f", rows[i].name, results[i].median_ns,
		       results[i].min_ns, results[i].max_ns, limit_ns);
		if (rows[i].has_ratio)
			printf(" %7.2f", ratio);
		else
			printf(" %7s", "-");
		if (speedup > 0)
			printf(" %8.2f\n", speedup);
		else
			printf(" %8s\n", "-");
		if (json == NULL)
			continue;
		fprintf(json, "%s\n  {\"name\": \"%s\", \"median_ns\": %.3f, \"min_ns\": %.3f, "
			      "\"max_ns\": %.3f, \"limit_ns\": %.3f, \"ratio\": ",
			first ? "" : ",", rows[i].name, results[i].median_ns, results[i].min_ns,
			results[i].max_ns, limit_ns);
		if (rows[i].has_ratio)
			fprintf(json, "%.3f", ratio);
		else
			fprintf(json, "null");
		fprintf(json, ", \"speedup\": ");
		if (speedup > 0)
			fprintf(json, "%.3f}", speedup);
		else
			fprintf(json, "null}");
		first = false;
	}
	if (json != NULL) {
		fprintf(json, "\n]}\n");
		fclose(json);
	}
	return 0;
}
