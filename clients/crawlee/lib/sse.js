'use strict';

/**
 * A Server-Sent Events parser (the WHATWG event-stream format): text in, in
 * whatever chunks the socket gives, events out as { type, data, id }.
 * Comment lines (": heartbeat") are reported through onComment, so that a
 * quiet stream is told apart from a dead one.
 */
class SseParser {
    constructor(onEvent, onComment = () => {}) {
        this.onEvent = onEvent;
        this.onComment = onComment;
        this.buf = '';
        this.reset();
    }

    reset() {
        this.type = '';
        this.data = [];
        this.id = undefined;
    }

    /** Feed a chunk of the stream (a string or a Buffer, UTF-8). */
    push(chunk) {
        this.buf += chunk.toString();
        let nl;
        while ((nl = this.buf.search(/\r\n|\r|\n/)) >= 0) {
            const line = this.buf.slice(0, nl);
            const skip = this.buf.startsWith('\r\n', nl) ? 2 : 1;
            // a lone CR at the end of a chunk may be the start of CRLF
            if (skip === 1 && this.buf[nl] === '\r' && nl + 1 === this.buf.length) break;
            this.buf = this.buf.slice(nl + skip);
            this.line(line);
        }
        if (this.buf.length > 1 << 20) {
            // no line this long is an event: drop it rather than grow
            this.buf = '';
        }
    }

    line(line) {
        if (line === '') {
            if (this.data.length) {
                this.onEvent({ type: this.type || 'message', data: this.data.join('\n'), id: this.id });
            }
            this.reset();
            return;
        }
        if (line[0] === ':') {
            this.onComment(line.slice(1).trim());
            return;
        }
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value[0] === ' ') value = value.slice(1);
        if (field === 'data') this.data.push(value);
        else if (field === 'event') this.type = value;
        else if (field === 'id') this.id = value;
    }
}

module.exports = { SseParser };
