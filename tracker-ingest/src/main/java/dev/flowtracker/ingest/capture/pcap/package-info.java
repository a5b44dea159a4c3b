/** Classic libpcap file reader (both byte orders, microsecond and nanosecond timestamps). */
package dev.flowtracker.ingest.capture.pcap;
