/** pcapng file reader: sections, interfaces (link type, timestamp resolution and offset), EPB, SPB and PB. */
package dev.flowtracker.ingest.capture.pcapng;
