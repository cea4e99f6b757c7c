/* SPDX-License-Identifier: GPL-2.0 */
/* Control messages: layouts in proto.c. */
#ifndef XTCP_PERF_PROTO_H
#define XTCP_PERF_PROTO_H

#include "perf.h"

#define MSG_MAGIC		0x58545046u	/* "XTPF" */
#define MSG_VERSION		1
#define MSG_HDR_LEN		12
#define REASON_LEN		96
#define PARAMS_LEN		(MSG_HDR_LEN + 24)
#define REPLY_LEN		(MSG_HDR_LEN + 8 + REASON_LEN)
#define HELD_LEN		(MSG_HDR_LEN + 4)
#define DONE_LEN		MSG_HDR_LEN
#define RESULTS_FIXED_LEN	(MSG_HDR_LEN + 16 + REASON_LEN)
#define RESULTS_CONN_LEN	32
#define MAX_MSG_LEN		(RESULTS_FIXED_LEN + MAX_STREAMS * RESULTS_CONN_LEN)
#define COUNT_LEN		8

enum msg_type {
	MSG_PARAMS = 1,
	MSG_REPLY,
	MSG_HELD,
	MSG_DONE,
	MSG_RESULTS,
};

enum { STATUS_OK = 0, STATUS_REFUSED = 1, STATUS_FAILED = 2 };

struct reply_msg {
	uint32_t status;
	uint32_t data_port;
	char reason[REASON_LEN];
};

struct results_msg {
	uint32_t status;
	char reason[REASON_LEN];
	int64_t cpu_ns;
	unsigned int nconns;
	struct conn_stats conns[MAX_STREAMS];
};

const char *msg_type_name(unsigned int type);
int send_params(int fd, const struct params *p);
int send_reply(int fd, uint32_t status, uint32_t data_port, const char *reason);
int send_held(int fd, uint32_t count);
int send_done(int fd);
int send_results(int fd, const struct results_msg *r);
int recv_msg(int fd, int timeout_ms, uint8_t *buf, unsigned int *type, size_t *len,
	     char *err, size_t errlen);
int recv_expect(int fd, int timeout_ms, unsigned int want, size_t want_len, uint8_t *buf,
		size_t *len, char *err, size_t errlen);
int check_params(const struct params *p, char *err, size_t errlen);
int decode_params(const uint8_t *m, size_t len, struct params *p, char *err, size_t errlen);
void decode_reply(const uint8_t *m, struct reply_msg *r);
uint32_t decode_held(const uint8_t *m);
int decode_results(const uint8_t *m, size_t len, struct results_msg *r, char *err,
		   size_t errlen);
void put_count(uint8_t *p, uint64_t v);
uint64_t get_count(const uint8_t *p);

#endif /* XTCP_PERF_PROTO_H */
