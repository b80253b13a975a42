/* SPDX-License-Identifier: ISC */
/*
 * kafka-mock -- a Kafka cluster for the tests, on loopback: librdkafka's
 * mock cluster with 3 brokers that speaks the real protocol, so kcat can
 * produce and consume through it. Creates the topics named as TOPIC:N (N
 * partitions), prints the bootstrap address, and serves until SIGTERM or
 * SIGINT. Built for the tests only.
 */
#include <err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char *argv[])
{
	char errstr[512], *colon;
	rd_kafka_mock_cluster_t *mc;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;
	int i, n;

	if (argc < 2)
		errx(2, "usage: kafka-mock TOPIC:PARTITIONS ...");
	/* The mock cluster needs a client instance to live in; a quiet one. */
	rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof(errstr));
	if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
	    sizeof(errstr))) == NULL)
		errx(1, "rd_kafka_new: %s", errstr);
	if ((mc = rd_kafka_mock_cluster_new(rk, 3)) == NULL)
		errx(1, "cannot start the mock cluster");
	for (i = 1; i < argc; i++) {
		if ((colon = strchr(argv[i], ':')) == NULL ||
		    (n = atoi(colon + 1)) < 1)
			errx(2, "'%s': expected TOPIC:PARTITIONS", argv[i]);
		*colon = '\0';
		if (rd_kafka_mock_topic_create(mc, argv[i], n, 1) !=
		    RD_KAFKA_RESP_ERR_NO_ERROR)
			errx(1, "cannot create topic %s", argv[i]);
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	while (!stop)
		pause();
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
