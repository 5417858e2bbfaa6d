// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The kernel log: kernel/printk/printk.c's ring buffer of records, each with a sequence number,
// a timestamp (nanoseconds since boot), a level and the text, and dmesg's rendering of it
// ("[%5lu.%06lu] text", util-linux dmesg and the kernel's console format). The buffer keeps the
// newest records up to a byte budget, as the kernel's does (CONFIG_LOG_BUF_SHIFT=17 in Debian's
// config: 128 KiB).

using System;
using System.Collections.Generic;
using System.Text;
using System.Threading;
using LogLevel = global::Kernel.LogLevel;

namespace SimpleCache.Model.Kernel
{
    /// <summary>One printk record (<c>struct printk_info</c> plus its text).</summary>
    /// <param name="Sequence">The record's sequence number, from 0 at boot.</param>
    /// <param name="TimestampNs">Nanoseconds since boot (<c>local_clock()</c>).</param>
    /// <param name="Level">The log level, KERN_EMERG (0) to KERN_DEBUG (7).</param>
    /// <param name="Text">The message, without a trailing newline.</param>
    public sealed record LogRecord(ulong Sequence, ulong TimestampNs, LogLevel Level, string Text)
    {
        /// <summary>The record as <c>dmesg</c> prints it: <c>[    1.234567] text</c>.</summary>
        public string Render()
        {
            ulong seconds = TimestampNs / 1_000_000_000;
            ulong micros = TimestampNs % 1_000_000_000 / 1000;
            return $"[{seconds,5}.{micros:D6}] {Text}";
        }
    }

    /// <summary>The printk ring buffer and its readers (<c>dmesg</c>, <c>dmesg -c</c>, <c>dmesg -w</c>).</summary>
    public sealed class PrintkLog
    {
        /// <summary>Bytes of text the buffer keeps: 2^17, Debian's CONFIG_LOG_BUF_SHIFT.</summary>
        public const int DefaultCapacityBytes = 1 << 17;

        private readonly object _lock = new();
        private readonly LinkedList<LogRecord> _records = new();
        private readonly Func<ulong> _clockNs;
        private readonly int _capacityBytes;
        private int _bytes;
        private ulong _nextSequence;
        private ulong _clearSequence;

        /// <summary>Creates a log whose timestamps come from <paramref name="clockNs"/>.</summary>
        public PrintkLog(Func<ulong> clockNs, int capacityBytes = DefaultCapacityBytes)
        {
            _clockNs = clockNs;
            _capacityBytes = capacityBytes;
        }

        /// <summary>Raised after each record is stored (what <c>dmesg -w</c> waits for).</summary>
        public event Action<LogRecord> Logged;

        /// <summary>
        /// <c>printk()</c>: drops one trailing newline, as vprintk_store() does (6.1 and 6.12:
        /// <c>if (text_len &amp;&amp; text[text_len - 1] == '\n')</c>), and stores one record per
        /// line of what is left: a second trailing newline makes an empty record, as it leaves an
        /// empty line in dmesg.
        /// </summary>
        public void Log(LogLevel level, string text)
        {
            if (text.EndsWith('\n'))
                text = text[..^1];
            foreach (string line in text.Split('\n'))
            {
                LogRecord record;
                lock (_lock)
                {
                    record = new LogRecord(_nextSequence++, _clockNs(), level, line);
                    _records.AddLast(record);
                    _bytes += line.Length + 16;
                    while (_bytes > _capacityBytes && _records.First != null)
                    {
                        _bytes -= _records.First.Value.Text.Length + 16;
                        _records.RemoveFirst();
                    }
                    Monitor.PulseAll(_lock);
                }
                Logged?.Invoke(record);
            }
        }

        /// <summary>The records still in the buffer and not cleared, oldest first (<c>dmesg</c>).</summary>
        public IReadOnlyList<LogRecord> Read()
        {
            lock (_lock)
            {
                var list = new List<LogRecord>();
                foreach (var r in _records)
                    if (r.Sequence >= _clearSequence)
                        list.Add(r);
                return list;
            }
        }

        /// <summary><c>dmesg -c</c>: returns the records, then clears them from later reads.</summary>
        public IReadOnlyList<LogRecord> ReadClear()
        {
            lock (_lock)
            {
                var list = Read();
                _clearSequence = _nextSequence;
                return list;
            }
        }

        /// <summary><c>dmesg -C</c>: clears without reading.</summary>
        public void Clear()
        {
            lock (_lock)
                _clearSequence = _nextSequence;
        }

        /// <summary>
        /// <c>dmesg -w</c>: the records with a sequence number above <paramref name="afterSequence"/>
        /// (-1 for all), waiting up to <paramref name="timeout"/> for at least one to arrive.
        /// </summary>
        public IReadOnlyList<LogRecord> WaitForNew(long afterSequence, TimeSpan timeout)
        {
            lock (_lock)
            {
                DateTime deadline = DateTime.UtcNow + timeout;
                while ((long)_nextSequence - 1 <= afterSequence)
                {
                    TimeSpan left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero)
                        break;
                    Monitor.Wait(_lock, left);
                }
                var list = new List<LogRecord>();
                foreach (var r in _records)
                    if ((long)r.Sequence > afterSequence)
                        list.Add(r);
                return list;
            }
        }

        /// <summary>The whole readable log as dmesg prints it.</summary>
        public string Dmesg()
        {
            var sb = new StringBuilder();
            foreach (var r in Read())
                sb.Append(r.Render()).Append('\n');
            return sb.ToString();
        }
    }
}
